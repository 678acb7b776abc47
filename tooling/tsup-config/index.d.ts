/** The shared tsup options of every @aiomisc/* package (typed loosely so configs stay portable). */
export declare function getTsupConfig(options?: {
  entry?: string[] | Record<string, string>;
}): Record<string, unknown>;
