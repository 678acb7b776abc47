import type { ThreadedFunction } from '../dist/index.js';

export declare const inc: ThreadedFunction<[number], number>;
