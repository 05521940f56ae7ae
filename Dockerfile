# netcheck-operator image. Node 24 runs the TypeScript sources directly (type stripping), so there
# is no build step: the final image holds the sources and production dependencies only.
# Build: docker build -t netcheck-operator:0.1.0 .

# 1. Production dependencies, installed from the lock file.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 2. The runtime: distroless Node 24, non-root, nothing but node, the sources and node_modules.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY operator ./operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "operator/main.ts"]
