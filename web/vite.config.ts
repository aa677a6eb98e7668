// Vite for the web app: `npm run build` writes web/dist (served by the Liuke
// server); `npm run dev:web` serves the app with hot reload and proxies the API
// to a running server (LIUKE_API, default http://127.0.0.1:3710).
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const api = process.env.LIUKE_API ?? 'http://127.0.0.1:3710';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
  server: {
    port: 5173,
    proxy: {
      '/api': { target: api, changeOrigin: false },
      '/v1': { target: api, changeOrigin: false },
    },
  },
});
