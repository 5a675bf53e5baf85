# The tenantgate image: one binary, every component (`tenantgate run --components ...`).
#
# `make image` builds it (hack/image/build.sh) with buildah, daemonless, from:
#   BASE      a minimal Debian root filesystem made by mmdebstrap from Debian's packages (hack/image/base.sh):
#             the C/C++ runtimes Node needs, /etc/passwd with the tenantgate user (65532); no shell, no
#             package manager. Any Debian bookworm image works too (e.g. --build-arg BASE=debian:bookworm-slim).
#   context   staged by hack/image/context.sh: node (the pinned Node 24 binary), app/package.json,
#             app/dist (compiled TypeScript + policy bundle), app/node_modules (production dependencies).
# No RUN step: the build needs no container runtime, only the builder's storage.
ARG BASE=localhost/tenantgate-base:bookworm
FROM ${BASE}
ARG VERSION=0.0.0
LABEL org.opencontainers.image.title="tenantgate" \
      org.opencontainers.image.description="Multi-tenant Kubernetes platform operator: operator, admission webhook and Gateway API proxy" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY node /usr/local/bin/node
COPY app /app
WORKDIR /app
ENV NODE_ENV=production
# Numeric, so that Kubernetes' runAsNonRoot can verify it (config/manager/*.yaml).
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/node", "/app/dist/cmd/tenantgate.js"]
CMD ["run"]
