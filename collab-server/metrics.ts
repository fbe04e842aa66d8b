/** Prometheus metrics of one relay, on a registry of its own so several relays can share a process. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Per-message traffic, counted in plain numbers on the hot path; prom-client
 * reads them at scrape time, which keeps label lookups off every frame.
 */
export interface TrafficCounts {
  messagesIn: Record<string, number>;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/** Everything the relay records; created once per relay. */
export interface RelayMetrics {
  readonly traffic: TrafficCounts;
  readonly registry: Registry;
  readonly connections: Gauge;
  readonly rooms: Gauge;
  readonly roomMemoryBytes: Gauge;
  readonly persistSeconds: Histogram;
  readonly persistFailures: Counter;
  /** 1 while some write or load of storage is failing (the reason is in /healthz and the log). */
  readonly storageDegraded: Gauge;
  readonly compactions: Counter;
  readonly closes: Counter<'code'>;
  readonly awarenessDropped: Counter;
  readonly changesRefused: Counter;
  readonly upgradesRefused: Counter<'status'>;
}

/** Creates the metrics; `collectRooms` is read at scrape time for the room gauges. */
export function createRelayMetrics(collectRooms: () => { count: number; approxBytes: number }): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'inkwell_relay_process_' });
  const registers = [registry];
  const traffic: TrafficCounts = { messagesIn: {}, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  // Counters only go up: each scrape adds what was counted since the last one.
  const reported: TrafficCounts = { messagesIn: {}, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  const totalCounter = (name: string, help: string, key: 'messagesOut' | 'bytesIn' | 'bytesOut'): Counter =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.inc(traffic[key] - reported[key]);
        reported[key] = traffic[key];
      },
    });
  new Counter({
    name: 'inkwell_relay_messages_in_total',
    help: 'Messages received, by type',
    labelNames: ['type'],
    registers,
    collect() {
      for (const [type, count] of Object.entries(traffic.messagesIn)) {
        this.inc({ type }, count - (reported.messagesIn[type] ?? 0));
        reported.messagesIn[type] = count;
      }
    },
  });
  totalCounter('inkwell_relay_messages_out_total', 'Messages sent', 'messagesOut');
  totalCounter('inkwell_relay_bytes_in_total', 'Bytes received', 'bytesIn');
  totalCounter('inkwell_relay_bytes_out_total', 'Bytes sent', 'bytesOut');
  return {
    traffic,
    registry,
    connections: new Gauge({ name: 'inkwell_relay_connections', help: 'Open WebSocket connections', registers }),
    rooms: new Gauge({
      name: 'inkwell_relay_rooms',
      help: 'Documents loaded in memory',
      registers,
      collect() {
        this.set(collectRooms().count);
      },
    }),
    roomMemoryBytes: new Gauge({
      name: 'inkwell_relay_room_memory_bytes',
      help: 'Approximate bytes of document state held by loaded rooms',
      registers,
      collect() {
        this.set(collectRooms().approxBytes);
      },
    }),
    persistSeconds: new Histogram({
      name: 'inkwell_relay_persist_seconds',
      help: 'Time from an update batch being cut to it being on disk',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
    persistFailures: new Counter({
      name: 'inkwell_relay_persist_failures_total',
      help: 'Failed update batch writes (retried)',
      registers,
    }),
    storageDegraded: new Gauge({
      name: 'inkwell_relay_storage_degraded',
      help: '1 while storage writes or loads are failing (reason in /healthz), else 0',
      registers,
    }),
    compactions: new Counter({ name: 'inkwell_relay_compactions_total', help: 'Completed compactions', registers }),
    closes: new Counter({
      name: 'inkwell_relay_closes_total',
      help: 'Connections closed by the relay, by close code',
      labelNames: ['code'],
      registers,
    }),
    awarenessDropped: new Counter({
      name: 'inkwell_relay_awareness_dropped_total',
      help: 'Awareness entries dropped because the sender does not own the client id',
      registers,
    }),
    changesRefused: new Counter({
      name: 'inkwell_relay_changes_refused_total',
      help: 'Document changes refused because the link only allows viewing',
      registers,
    }),
    upgradesRefused: new Counter({
      name: 'inkwell_relay_upgrades_refused_total',
      help: 'WebSocket upgrades refused, by HTTP status',
      labelNames: ['status'],
      registers,
    }),
  };
}
