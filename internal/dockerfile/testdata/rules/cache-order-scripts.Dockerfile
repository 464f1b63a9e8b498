FROM node:20-bookworm-slim
WORKDIR /app
COPY . .
RUN npm ci
USER node
CMD ["node", "server.js"]
