import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadProtos, ProtoLoadError, UnknownServiceError } from '../src/index';

const fixture = (name: string): string =>
  fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));

function loadError(run: () => unknown): ProtoLoadError {
  try {
    run();
  } catch (error) {
    expect(ProtoLoadError.isInstance(error), String(error)).toBe(true);
    return error as ProtoLoadError;
  }
  throw new Error('expected a ProtoLoadError');
}

describe('loadProtos', () => {
  it('returns the messages, the services and the clients of the seed Greeter', () => {
    const protos = loadProtos(fixture('hello.proto'));
    expect(Object.keys(protos.messages).sort()).toEqual([
      'helloworld.HelloReply',
      'helloworld.HelloRequest',
    ]);
    expect(Object.keys(protos.services)).toEqual(['helloworld.Greeter']);
    const greeter = protos.service('helloworld.Greeter');
    expect(greeter.SayHello?.path).toBe('/helloworld.Greeter/SayHello');
    expect(protos.service('Greeter')).toBe(greeter);
    expect(protos.client('helloworld.Greeter').service).toBe(greeter);
    expect(protos.files).toEqual([fixture('hello.proto')]);
  });

  it('follows imports next to the importing file and through includeDirs', () => {
    const protos = loadProtos(fixture('numbers.proto'));
    expect(Object.keys(protos.services)).toEqual(['test.numbers.Numbers']);
    expect(protos.messages['test.numbers.Total']).toBeDefined();
    const viaInclude = loadProtos('hello.proto', { includeDirs: [fixture('')] });
    expect(Object.keys(viaInclude.services)).toEqual(['helloworld.Greeter']);
  });

  it('keeps field names as written and accepts proto-loader options over the defaults', () => {
    const protos = loadProtos(fixture('numbers.proto'));
    const request = protos.messages['test.numbers.CountRequest']!;
    const fields = (request.type as { field: { name: string }[] }).field.map((f) => f.name);
    expect(fields).toEqual(['up_to']);
    const method = protos.service('Numbers').Count!;
    expect(method.requestDeserialize(method.requestSerialize({ up_to: 3 }))).toEqual({ up_to: 3 });
    const camel = loadProtos(fixture('numbers.proto'), { keepCase: false });
    const camelMethod = camel.service('Numbers').Count!;
    expect(camelMethod.requestDeserialize(camelMethod.requestSerialize({ upTo: 3 }))).toEqual({
      upTo: 3,
    });
  });

  it('names the file and the line of a file that does not parse', () => {
    const error = loadError(() => loadProtos(fixture('bad.proto')));
    expect(error.file).toBe(fixture('bad.proto'));
    expect(error.line).toBe(7);
    expect(error.message).toBe(`${fixture('bad.proto')}:7: illegal token '}', ';' expected`);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('names the imported file when the import does not parse', () => {
    const error = loadError(() => loadProtos(fixture('imports-bad.proto')));
    expect(error.file).toBe(fixture('bad.proto'));
    expect(error.line).toBe(7);
  });

  it('names a missing file, and a missing import', () => {
    const missing = loadError(() => loadProtos(fixture('nope.proto')));
    expect(missing.file).toBe(fixture('nope.proto'));
    expect(missing.message).toContain('no such file');
    const missingImport = loadError(() => loadProtos(fixture('imports-missing.proto')));
    expect(missingImport.file).toBe(fixture('not-there.proto'));
  });

  it('reports a type that is not defined, naming the file', () => {
    const error = loadError(() => loadProtos(fixture('unresolved.proto')));
    expect(error.message).toContain(fixture('unresolved.proto'));
    expect(error.message).toContain('Missing');
  });

  it('rejects an empty path list', () => {
    loadError(() => loadProtos([]));
    loadError(() => loadProtos(''));
  });

  it('throws UnknownServiceError naming the services that exist', () => {
    const protos = loadProtos([fixture('hello.proto'), fixture('numbers.proto')]);
    let caught: unknown;
    try {
      protos.service('helloworld.Greter');
    } catch (error) {
      caught = error;
    }
    expect(UnknownServiceError.isInstance(caught)).toBe(true);
    const error = caught as UnknownServiceError;
    expect(error.serviceName).toBe('helloworld.Greter');
    expect(error.known).toEqual(['helloworld.Greeter', 'test.numbers.Numbers']);
    expect(error.message).toContain('it defines helloworld.Greeter, test.numbers.Numbers');
    expect(() => protos.client('Nope')).toThrow(/no service "Nope"/);
    expect(() => protos.service('HelloRequest')).toThrow(UnknownServiceError);
  });
});
