# The tenantgate image: one binary, every component (`tenantgate run --components ...`).
# Build context: the repository after `make build` (dist/ holds the compiled TypeScript and the policy wasm).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY dist ./dist
COPY config/crd ./config/crd
USER 65532:65532
ENTRYPOINT ["node", "dist/cmd/tenantgate.js"]
CMD ["run"]
