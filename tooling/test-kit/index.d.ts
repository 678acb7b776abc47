import type { ChildProcess } from 'node:child_process';

/** A certificate and its key, as PEM contents and as file paths. */
export interface CertificatePair {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/** A throwaway PKI made by {@link makeCertificates}. */
export interface Certificates {
  dir: string;
  /** The CA that signed `server` and `client`. */
  ca: CertificatePair;
  /** For localhost, 127.0.0.1 and ::1. */
  server: CertificatePair;
  client: CertificatePair;
  /** An unrelated CA and a client certificate signed by it. */
  otherCa: CertificatePair;
  otherClient: CertificatePair;
  cleanup(): void;
}

/** Makes CA, server and client certificates with the `openssl` CLI in a temporary directory. */
export declare function makeCertificates(): Certificates;

/** One fenced TypeScript example of a Markdown file. */
export interface ReadmeExample {
  line: number;
  code: string;
  run: boolean;
}

/** The fenced TypeScript examples of a Markdown file (```ts runs; ```ts typecheck only type-checks). */
export declare function readmeExamples(markdownPath: string): ReadmeExample[];

/** Declares vitest tests that type-check and run every TypeScript example of a README. */
export declare function describeReadmeExamples(
  readme: URL | string,
  options?: { timeoutMs?: number },
): void;

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export declare function freePort(): Promise<number>;

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`. */
export declare function waitForPort(port: number, options?: { timeoutMs?: number }): Promise<void>;

/** A throwaway redis-server started by {@link startRedisServer}. */
export interface RedisServer {
  port: number;
  url: string;
  process: ChildProcess;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/** Starts a redis-server on a free loopback port; check `systemCommand('redis-server')` first. */
export declare function startRedisServer(): Promise<RedisServer>;

/** Whether an executable named `name` is on PATH. */
export declare function onPath(name: string): boolean;

/**
 * Whether a system command the tests need is installed; when missing, throws under CI=true,
 * else prints one SKIPPED line naming what to install and returns false.
 */
export declare function systemCommand(name: string, options?: { install?: string }): boolean;
