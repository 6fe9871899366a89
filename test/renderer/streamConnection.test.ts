/**
 * The job stream's connection state that both transports report (renderer/api/streamConnection.ts):
 * listeners hear changes only, a listener may leave while it is called, and the reconnect signal
 * reaches every view that asked for it until it unsubscribes.
 */
import { describe, expect, it } from 'vitest';
import type { StreamState } from '../../renderer/api/labApi.ts';
import { streamConnection } from '../../renderer/api/streamConnection.ts';

describe('the stream connection', () => {
  it('reports its state and tells listeners of changes only', () => {
    const connection = streamConnection('closed');
    const heard: StreamState[] = [];
    const stop = connection.members.onStreamState((s) => heard.push(s));
    connection.set('connecting');
    connection.set('connecting');
    connection.set('open');
    expect(heard).toEqual(['connecting', 'open']);
    expect(connection.state).toBe('open');
    expect(connection.members.streamState()).toBe('open');
    stop();
    connection.set('reconnecting');
    expect(heard).toEqual(['connecting', 'open']);
    expect(connection.members.streamState()).toBe('reconnecting');
  });

  it('lets a listener unsubscribe while it is called, without skipping the others', () => {
    const connection = streamConnection('connecting');
    const heard: string[] = [];
    const first = connection.members.onStreamState((s) => {
      heard.push(`first ${s}`);
      first();
    });
    connection.members.onStreamState((s) => heard.push(`second ${s}`));
    connection.set('open');
    connection.set('closed');
    expect(heard).toEqual(['first open', 'second open', 'second closed']);
  });

  it('signals a reconnect to each view until it unsubscribes', () => {
    const connection = streamConnection('open');
    let a = 0;
    let b = 0;
    const stopA = connection.members.onReconnect(() => a++);
    connection.members.onReconnect(() => b++);
    connection.reconnected();
    stopA();
    connection.reconnected();
    expect([a, b]).toEqual([1, 2]);
  });
});
