export { BaseHTTPService } from './base-http-service';
export { FastifyHTTPSService, FastifyService } from './fastify-service';
export { HTTPService, HTTPSService } from './http-service';
export { HTTPStatistic } from './http-statistic';
export { InvalidApplicationError } from './errors/invalid-application-error';

export type { HTTPShutdownReport, NodeServer, RequestListener } from './base-http-service';
export type {
  AnyFastifyInstance,
  FastifyApplicationOptions,
  FastifyHTTPSServiceOptions,
  FastifyOptions,
  FastifyServiceOptions,
} from './fastify-service';
export type { HealthOptions, HTTPServiceOptions, HTTPSServiceOptions } from './options';
