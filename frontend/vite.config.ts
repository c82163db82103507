/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` serves the storefront on :5173 and sends the API to the
// gateway (SHOP_GATEWAY_URL, default the dev fleet's http://127.0.0.1:9000),
// so the browser sees one origin, as it does behind the gateway.
const gateway = process.env.SHOP_GATEWAY_URL ?? 'http://127.0.0.1:9000';

export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/api': { target: gateway, changeOrigin: false },
      '/.well-known': { target: gateway, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    // the gateway caches /assets/* for a year: Vite puts a content hash in
    // every name there
    assetsDir: 'assets',
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
