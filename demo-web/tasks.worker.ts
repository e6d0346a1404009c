/**
 * The demo's worker: loads the tasks and serves them to the page's pool. It also takes the
 * demo's settings (the artificial delay), which are not jobs, so no other listener sees them.
 * @module
 */

import { serve } from 'checkpoint-tool/worker';
import { applySettings, isSettings } from './tasks.js';

addEventListener('message', (event: MessageEvent) => {
  if (!isSettings(event.data)) return;
  event.stopImmediatePropagation();
  applySettings(event.data);
});
serve();
