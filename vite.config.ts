import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const demo = (path: string) => fileURLToPath(new URL(`./demo-web/${path}`, import.meta.url));

/**
 * Emits `sw.js`, a service worker that precaches every file of the build (the worker chunk
 * included), so the demo works offline after its first load. No dependency: the worker's code is
 * demo-web/service-worker.js with the list of files and a version filled in.
 */
function offline(): Plugin {
  return {
    name: 'demo-offline',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).filter((file) => !file.endsWith('.map'));
      const version = files
        .sort()
        .join('|')
        .split('')
        .reduce((hash, char) => (Math.imul(hash, 31) + char.charCodeAt(0)) | 0, 7)
        .toString(36);
      const source = readFileSync(demo('service-worker.js'), 'utf8')
        .replace('self.__PRECACHE__', JSON.stringify(['./', ...files]))
        .replace('self.__VERSION__', JSON.stringify(version));
      this.emitFile({ type: 'asset', fileName: 'sw.js', source });
    },
  };
}

export default defineConfig({
  root: 'demo-web',
  base: './',
  plugins: [offline()],
  worker: { format: 'es' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    rolldownOptions: {
      input: { index: demo('index.html'), lab: demo('lab.html'), reliability: demo('reliability.html') },
    },
  },
  preview: { host: '127.0.0.1' },
  server: { host: '127.0.0.1' },
});
