export { ClosedFileError } from './errors/closed-file-error';
export { CompressedDataError } from './errors/compressed-data-error';
export { FileExistsError } from './errors/file-exists-error';
export { UnsupportedOperationError } from './errors/unsupported-operation-error';

export { AsyncBinaryFile, AsyncFile, AsyncTextFile } from './async-file';
export { asyncOpen } from './async-open';
export { Compression } from './compression';

export type { TextEncoding } from './async-file';
export type { AsyncOpenOptions, BinaryMode } from './async-open';
export type { Whence } from './file-core';
