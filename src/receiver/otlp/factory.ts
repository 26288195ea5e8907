import type { ReceiverFactory } from '../../component/factory.js';
import { otlpReceiverSchema, type OtlpReceiverConfig } from './config.js';
import { OtlpReceiver } from './otlp-receiver.js';

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  signals: ['traces', 'metrics', 'logs'],
  configSchema: otlpReceiverSchema,
  listeners: ({ protocols: { grpc, http } }) => [
    ...(grpc ? [{ setting: 'protocols.grpc.endpoint', address: grpc.endpoint }] : []),
    ...(http ? [{ setting: 'protocols.http.endpoint', address: http.endpoint }] : []),
  ],
  create: (settings, config, next) => new OtlpReceiver(settings, config, next),
};
