import { AiomiscError, isMarked } from './aiomisc-error';

const marker = Symbol.for('aiomisc.error.AsyncRequiredError');

/**
 * A service class lists methods in `static asyncRequired` that are missing or not `async`.
 * Thrown when the first instance is constructed.
 *
 * @example
 * ```ts
 * class Bad extends Service {
 *   static override asyncRequired = ['start', 'greeting'];
 *   async start() {}
 *   greeting() {}
 * }
 * new Bad(); // AsyncRequiredError: Bad: methods must be async functions: Bad.greeting
 * ```
 */
export class AsyncRequiredError extends AiomiscError {
  private readonly [marker] = true;
  /** The class name of the service. */
  readonly className: string;
  /** The methods that are not async functions. */
  readonly methods: readonly string[];

  constructor(className: string, methods: readonly string[]) {
    super(
      `${className}: methods must be async functions: ${methods.map((m) => `${className}.${m}`).join(', ')}`,
    );
    this.name = 'AsyncRequiredError';
    this.className = className;
    this.methods = methods;
  }

  static override isInstance(error: unknown): error is AsyncRequiredError {
    return isMarked(error, marker);
  }
}
