export { BindError } from './errors/bind-error';
export { ProtoLoadError } from './errors/proto-load-error';
export { UnknownServiceError } from './errors/unknown-service-error';

export { COMPRESSION_ALGORITHMS, GRPCService } from './grpc-service';
export { toErrorStatus } from './handlers';
export { HEALTH_SERVICE_NAME, loadHealthProtos } from './health';
export { loadProtos } from './load-protos';
export { GRPCMethodStatistic } from './statistic';

export type {
  AddServiceOptions,
  BoundPort,
  CompressionAlgorithm,
  GRPCServiceOptions,
  TLSOptions,
} from './grpc-service';
export type { ErrorStatus, GRPCHandler, ServiceImplementation } from './handlers';
export type { ServingStatus } from './health';
export type { LoadedProtos, LoadProtosOptions } from './load-protos';
