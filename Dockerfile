# canary-gate image: a static binary on scratch, usable as an init container
# that installs the plugin into the argo-rollouts controller (no shell needed):
#
#   docker build -t canary-gate:0.1.0 .
#   # in the controller Deployment (plugin-config/controller-patch.yaml):
#   #   initContainers: [{name: canary-gate, image: canary-gate:0.1.0,
#   #                     args: ["install", "/plugins/canary-gate"], ...}]
#
# Stage 1 builds against musl (rustls with ring: no OpenSSL, no glibc NSS, so
# DNS works from scratch through /etc/resolv.conf). Stage 2 holds only the binary.
FROM rust:1-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs* ./
COPY proto ./proto
COPY src ./src
COPY benches ./benches
# The workspace member the manifest names (the test simulator; not built here).
COPY tools ./tools
RUN cargo build --release --locked -p canary-gate --bin canary-gate \
 && install -D -m 0755 target/release/canary-gate /out/canary-gate

FROM scratch
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="canary-gate" \
      org.opencontainers.image.description="Argo Rollouts metric-provider plugin: canary traffic, error-rate and latency checks against Prometheus" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="canary-gate"
COPY --from=build /out/canary-gate /canary-gate
# nonroot (distroless convention); the binary needs no privileges.
USER 65532:65532
ENTRYPOINT ["/canary-gate"]
CMD ["--help"]
