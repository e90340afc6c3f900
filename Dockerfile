# The sag-rollout worker (and CLI) image.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY bench ./bench
RUN npx tsc -p tsconfig.build.json && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/package.json ./package.json
COPY bin ./bin
# The worker bundles workflows from their sources at start-up; the dashboard serves its prebuilt page.
COPY workflows ./workflows
COPY src/dashboard/public ./src/dashboard/public
USER node
ENTRYPOINT ["node", "bin/sag-rollout.js"]
CMD ["worker"]
