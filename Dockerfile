# OSP Gateway container image: build with the Rust toolchain, run the single
# binary on a minimal base as a non-root user.
#
#   docker build -t osp-gateway .
#   docker run -p 8080:8080 -e DATABASE_URL=postgres://... -e OSP_JWT_SECRET=... osp-gateway

# --- build -------------------------------------------------------------------
FROM rust:1-bookworm AS builder
WORKDIR /src
# The whole workspace is needed: the gateway depends on entity/ and migration/,
# and Cargo resolves every workspace member.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --package osp-gateway --bin osp-gateway \
    && cp target/release/osp-gateway /osp-gateway

# --- run ---------------------------------------------------------------------
# distroless/cc: glibc, libgcc and CA certificates; no shell, no package
# manager. TLS is rustls, so no OpenSSL is needed.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /osp-gateway /usr/local/bin/osp-gateway
ENV OSP_LISTEN=0.0.0.0:8080
EXPOSE 8080
# The distroless "nonroot" user (65532), also set in deploy/40-deployment.yaml.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/osp-gateway"]
