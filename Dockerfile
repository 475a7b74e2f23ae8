# The image the Helm chart runs: controllers, webhook, activator and GitSync in one binary (`trellis`).
# Multi-stage: compile with dev dependencies, ship production dependencies only, run as non-root.
# Build it with scripts/build-image.sh (Docker, Podman or Buildah; README "Install with Helm").
# Node 24 is the active LTS line (supported until 2028-04-30); Node 20 reached its end on 2026-04-30.

FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apis apis
COPY definitions definitions
COPY cue cue
COPY render render
COPY bind bind
COPY application application
COPY kube kube
COPY lib lib
COPY controlplane controlplane
COPY apply apply
COPY status status
COPY runtime runtime
COPY controllers controllers
COPY webhooks webhooks
COPY serverless serverless
COPY gitops gitops
COPY cli cli
COPY dashboard dashboard
COPY scripts/build-dashboard.ts scripts/build-dashboard.ts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# The native CUE evaluator (cue/native/go, cuelang.org/go): built here, shipped as one static binary,
# named by TRELLIS_CUE_BIN so the image neither needs Go nor builds anything at run time.
FROM golang:1.26-bookworm AS cue-evaluator
WORKDIR /src
COPY cue/native/go ./
RUN CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags="-s -w" -o /out/trellis-cue .

FROM node:24-bookworm-slim
# git (and ssh for SSH remotes) for GitSync; nothing else beyond Node.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The dashboard's browser side, built by `npm run build` (scripts/build-dashboard.ts).
COPY --from=build /src/dashboard/assets ./dashboard/assets
COPY --from=cue-evaluator /out/trellis-cue /usr/local/bin/trellis-cue
ENV TRELLIS_CUE_BIN=/usr/local/bin/trellis-cue
COPY bin ./bin
COPY charts/trellis/files ./charts/trellis/files
# The built-in catalog of workload and trait types (read at run time, like the chart files).
COPY definitions/catalog ./definitions/catalog
ENV NODE_ENV=production
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/trellis.js"]
CMD ["--help"]
