import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { ProtoLoadError } from './errors/proto-load-error';
import { UnknownServiceError } from './errors/unknown-service-error';

/**
 * Options of {@link loadProtos}: proto-loader's options (`keepCase`, `longs`, `enums`,
 * `defaults`, `oneofs`, `arrays`, `objects`, `json`, `includeDirs`).
 */
export type LoadProtosOptions = protoLoader.Options;

/** What {@link loadProtos} returns: the seed's `protos, services` pair, and more. */
export interface LoadedProtos {
  /** The file(s) loaded, as given. */
  readonly files: readonly string[];
  /** proto-loader's package definition: every message, enum and service by full name. */
  readonly packageDefinition: protoLoader.PackageDefinition;
  /** Service definitions by full name (`'helloworld.Greeter'`), for `GRPCService.addService`. */
  readonly services: Readonly<Record<string, grpc.ServiceDefinition>>;
  /** Message type definitions by full name (`'helloworld.HelloRequest'`): the seed's `protos`. */
  readonly messages: Readonly<Record<string, protoLoader.MessageTypeDefinition<object, object>>>;
  /** `grpc.loadPackageDefinition(packageDefinition)`: the nested namespaces with client classes. */
  readonly grpcObject: grpc.GrpcObject;
  /**
   * The service definition named `name` (full name, or a short name that only one package
   * defines).
   * @throws {@link UnknownServiceError} when no such service is defined.
   */
  service(name: string): grpc.ServiceDefinition;
  /**
   * The client class (the seed's `GreeterStub`) of the service named `name`.
   * @throws {@link UnknownServiceError} when no such service is defined.
   */
  client(name: string): grpc.ServiceClientConstructor;
}

/** The options grpc-node's own examples use: field names as written, longs and enums as strings. */
const DEFAULT_OPTIONS: LoadProtosOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

const packageDefinitions = new WeakMap<object, protoLoader.PackageDefinition>();

/**
 * The package definition a service definition came from, when {@link loadProtos} made it.
 * @internal
 */
export function packageDefinitionOf(
  definition: grpc.ServiceDefinition,
): protoLoader.PackageDefinition | undefined {
  return packageDefinitions.get(definition);
}

/**
 * Loads `.proto` files without code generation, as the seed's `grpc.protos_and_services`:
 * message types in `messages`, service definitions in `services` (and by name through
 * `service()`), client classes through `client()`. Imports are looked up in `includeDirs`,
 * then next to the importing file.
 *
 * Defaults differ from proto-loader's: `{ keepCase: true, longs: String, enums: String,
 * defaults: true, oneofs: true }` (field names stay as written in the `.proto`, like the
 * Python's); any option given replaces its default.
 *
 * @param path one `.proto` file or several
 * @throws {@link ProtoLoadError} naming the file (and the line) that is missing or does not parse
 *
 * @example
 * ```ts
 * const protos = loadProtos('hello.proto');
 * service.addService(protos.service('helloworld.Greeter'), {
 *   SayHello: async (call) => ({ message: `Hello, ${call.request.name}!` }),
 * });
 * ```
 */
export function loadProtos(
  path: string | readonly string[],
  options: LoadProtosOptions = {},
): LoadedProtos {
  const files = typeof path === 'string' ? [path] : [...path];
  if (files.length === 0 || files.some((file) => typeof file !== 'string' || file === '')) {
    throw new ProtoLoadError(
      String(path),
      undefined,
      'expected a .proto file path or a list of them',
    );
  }
  const merged: LoadProtosOptions = { ...DEFAULT_OPTIONS, ...options };
  let packageDefinition: protoLoader.PackageDefinition;
  try {
    packageDefinition = protoLoader.loadSync(files, merged);
  } catch (error) {
    throw describeLoadError(error, files, merged.includeDirs ?? []);
  }

  const services: Record<string, grpc.ServiceDefinition> = {};
  const messages: Record<string, protoLoader.MessageTypeDefinition<object, object>> = {};
  for (const [name, definition] of Object.entries(packageDefinition)) {
    if (isMessageType(definition)) messages[name] = definition;
    else if (!('format' in definition)) {
      const service = definition as unknown as grpc.ServiceDefinition;
      packageDefinitions.set(service, packageDefinition);
      services[name] = service;
    }
  }
  const grpcObject = grpc.loadPackageDefinition(packageDefinition);
  const label = files.join(', ');

  const fullName = (name: string): string => {
    if (typeof name === 'string' && Object.hasOwn(services, name)) return name;
    const known = Object.keys(services);
    const matches = known.filter((candidate) => candidate.endsWith(`.${String(name)}`));
    if (matches.length === 1 && matches[0] !== undefined) return matches[0];
    const hint =
      matches.length > 1
        ? `it is ambiguous (${matches.join(', ')}); use the full name`
        : known.length > 0
          ? `it defines ${known.join(', ')}`
          : 'it defines no service';
    throw new UnknownServiceError(
      String(name),
      known,
      `no service ${JSON.stringify(name)} in ${label}; ${hint}`,
    );
  };

  return Object.freeze({
    files: Object.freeze(files),
    packageDefinition,
    services: Object.freeze(services),
    messages: Object.freeze(messages),
    grpcObject,
    service: (name: string) => services[fullName(name)] as grpc.ServiceDefinition,
    client: (name: string) => {
      let node: unknown = grpcObject;
      for (const part of fullName(name).split('.')) node = (node as Record<string, unknown>)[part];
      return node as grpc.ServiceClientConstructor;
    },
  });
}

function isMessageType(
  definition: object,
): definition is protoLoader.MessageTypeDefinition<object, object> {
  return 'format' in definition && definition.format === 'Protocol Buffer 3 DescriptorProto';
}

/**
 * proto-loader's parse errors say `(line N)` without the file; find the file by parsing the
 * import graph one file at a time, resolving imports the way proto-loader does.
 */
function describeLoadError(
  error: unknown,
  files: readonly string[],
  includeDirs: readonly string[],
): ProtoLoadError {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown }).code;
  const missingPath = (error as { path?: unknown }).path;
  if (code === 'ENOENT' && typeof missingPath === 'string') {
    return new ProtoLoadError(missingPath, undefined, 'no such file', { cause: error });
  }
  const seen = new Set<string>();
  const visit = (file: string, origin: string | undefined): ProtoLoadError | undefined => {
    const path = resolveImport(file, origin, includeDirs);
    if (path === undefined || seen.has(path)) return undefined;
    seen.add(path);
    let source: string;
    try {
      source = readFileSync(path, 'utf8');
    } catch (readError) {
      return new ProtoLoadError(path, undefined, 'cannot read the file', { cause: readError });
    }
    let parsed: protobuf.IParserResult;
    try {
      parsed = protobuf.parse(source, new protobuf.Root(), { keepCase: true });
    } catch (parseError) {
      const text = parseError instanceof Error ? parseError.message : String(parseError);
      const line = /\(line (\d+)\)/.exec(text);
      const reason = text.replace(/\s*\((?:[^()]*, )?line \d+\)$/, '');
      return new ProtoLoadError(path, line ? Number(line[1]) : undefined, reason, {
        cause: parseError,
      });
    }
    for (const imported of [...(parsed.imports ?? []), ...(parsed.weakImports ?? [])]) {
      const found = visit(imported, path);
      if (found) return found;
    }
    return undefined;
  };
  for (const file of files) {
    const found = visit(file, undefined);
    if (found) return found;
  }
  return new ProtoLoadError(files.join(', '), undefined, message, { cause: error });
}

function resolveImport(
  file: string,
  origin: string | undefined,
  includeDirs: readonly string[],
): string | undefined {
  if (isAbsolute(file)) return file;
  for (const directory of includeDirs) {
    const candidate = join(directory, file);
    try {
      accessSync(candidate, constants.R_OK);
      return candidate;
    } catch {
      // not in this include directory
    }
  }
  const candidate = origin === undefined ? resolve(file) : join(dirname(origin), file);
  try {
    accessSync(candidate, constants.R_OK);
    return candidate;
  } catch {
    // google/protobuf/*.proto come with protobuf.js; nothing to check for them here
    return undefined;
  }
}
