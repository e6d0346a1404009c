/**
 * The tabs lab's worker: the lab's tasks, served.
 * @module
 */
import { serve } from 'checkpoint-tool/worker';

export * from './tabs-lab-tasks.js';

serve();
