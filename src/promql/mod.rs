//! Pure layer: PromQL for the checks, built as ASTs; canary matcher injection.
