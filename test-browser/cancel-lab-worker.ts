/**
 * The cancel lab's worker: the lab's tasks, served.
 * @module
 */
import { serve } from 'checkpoint-tool/worker';

export * from './cancel-lab-tasks.js';

serve();
