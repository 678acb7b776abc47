import { Statistic } from '@aiomisc/core';

/**
 * The request counters of one HTTP service, in core's statistics registry
 * (`getStatistics('HTTPStatistic')`). Health probes are not counted.
 */
export class HTTPStatistic extends Statistic {
  readonly kind = 'HTTPStatistic';
  /** Requests received. */
  requests = 0;
  /** Requests whose response has not finished or been aborted yet. */
  in_flight = 0;
  /** Responses with a 4xx status. */
  errors_4xx = 0;
  /** Responses with a 5xx status (a handler that threw included). */
  errors_5xx = 0;
  /** Requests whose connection closed before the response was complete. */
  aborted = 0;
  /** Connections accepted. */
  connections = 0;
  /** Connections destroyed at the shutdown deadline. */
  connections_destroyed = 0;
}
