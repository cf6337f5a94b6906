//! Pure layer: Argo successCondition / failureCondition, the expr subset users write.
