import { constants } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { configProblems } from '../../helpers/config-problems.js';

const config = (grpc: string, http: string) => `
receivers:
  otlp:
    protocols:
      grpc: { endpoint: 127.0.0.1:0, ${grpc} }
      http: { endpoint: 127.0.0.1:0, ${http} }
exporters:
  debug:
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }
`;

describe('otlp receiver settings at their extremes', () => {
  it('refuses limits that Node cannot honour, naming each', async () => {
    // Accepted until now: max_concurrent_streams past 32 bits made the first gRPC connection's
    // SETTINGS throw (the process exited); body limits past the largest buffer made every
    // compressed request fail ("maxOutputLength is out of range").
    const mib = constants.MAX_LENGTH / (1024 * 1024);
    expect(
      await configProblems(
        config(
          `max_concurrent_streams: 10000000000, max_recv_msg_size_mib: ${mib + 1}`,
          `max_request_body_size: ${constants.MAX_LENGTH + 1}`,
        ),
      ),
    ).toEqual([
      `receivers.otlp.protocols.grpc.max_recv_msg_size_mib: must be at most ${mib}, got number ${mib + 1}`,
      'receivers.otlp.protocols.grpc.max_concurrent_streams: must be at most 4294967295, got number 10000000000',
      `receivers.otlp.protocols.http.max_request_body_size: must be at most ${constants.MAX_LENGTH}, got number ${constants.MAX_LENGTH + 1}`,
    ]);
  });

  it('takes the largest values Node can honour', async () => {
    const mib = constants.MAX_LENGTH / (1024 * 1024);
    expect(
      await configProblems(
        config(
          `max_concurrent_streams: 4294967295, max_recv_msg_size_mib: ${mib}`,
          `max_request_body_size: ${constants.MAX_LENGTH}`,
        ),
      ),
    ).toEqual([]);
  });
});
