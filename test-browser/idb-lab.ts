/**
 * The page the IndexedDB storage tests open: the browser entry, as a user's bundle has it, exposed
 * as `window.checkpoint`, so that a test can define tasks and stores of its own in the page.
 * @module
 */
import * as checkpoint from 'checkpoint-tool/browser';

declare global {
  interface Window {
    checkpoint: typeof checkpoint;
  }
}

window.checkpoint = checkpoint;
document.body.dataset.ready = 'true';
