# One image for every service; docker-compose.yml picks the service with `command`.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production HOST=0.0.0.0
CMD ["npm", "run", "start:gateway"]
