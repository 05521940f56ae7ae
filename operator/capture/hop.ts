// Hop attribution with two capture points: compares the requests and replies seen at the
// source and at the destination (each analysed with the target as seen at that point).

import type { CaptureAnalysis, TargetExchange } from './model.ts';

export type HopReason =
  | 'NoRequestSent'
  | 'ServerDidNotReceive'
  | 'ServerDidNotAnswer'
  | 'ClientDidNotReceiveReply'
  | 'ReplyReceived';

export interface HopAttribution {
  reason: HopReason;
  message: string;
}

interface ExchangeWords {
  request: string;
  requests: string;
  reply: string;
  replies: string;
  /** What "no answer" means for this exchange. */
  anyReply: string;
}

const EXCHANGE_WORDS: Record<TargetExchange['kind'], ExchangeWords> = {
  tcp: { request: 'SYN', requests: 'SYNs', reply: 'SYN-ACK', replies: 'SYN-ACKs', anyReply: 'SYN-ACK or RST' },
  dns: { request: 'DNS query', requests: 'DNS queries', reply: 'DNS response', replies: 'DNS responses', anyReply: 'DNS response' },
  icmp: { request: 'echo request', requests: 'echo requests', reply: 'echo reply', replies: 'echo replies', anyReply: 'echo reply' },
  udp: { request: 'datagram', requests: 'datagrams', reply: 'reply', replies: 'replies', anyReply: 'reply' },
  none: { request: 'request', requests: 'requests', reply: 'reply', replies: 'replies', anyReply: 'reply' },
};

function count(value: number, singular: string, plural: string): string {
  return `${value} ${value === 1 ? singular : plural}`;
}

/** Names the hop where the exchange stopped: the server did not receive, did not answer, or the answer got lost. */
export function attributeHop(source: CaptureAnalysis, destination: CaptureAnalysis): HopAttribution {
  const kind = source.exchange.kind !== 'none' ? source.exchange.kind : destination.exchange.kind;
  const words = EXCHANGE_WORDS[kind];
  const sent = source.exchange;
  const received = destination.exchange;
  if (sent.requests === 0) {
    return { reason: 'NoRequestSent', message: `the source capture holds no ${words.request} to the target` };
  }
  if (received.requests === 0) {
    return {
      reason: 'ServerDidNotReceive',
      message: `${count(sent.requests, words.request, words.requests)} left the source but none reached the destination`,
    };
  }
  if (received.replies === 0) {
    return {
      reason: 'ServerDidNotAnswer',
      message: `the destination received ${count(received.requests, words.request, words.requests)} but sent no ${words.anyReply}`,
    };
  }
  if (sent.replies === 0) {
    return {
      reason: 'ClientDidNotReceiveReply',
      message: `the destination sent ${count(received.replies, words.reply, words.replies)} but none reached the source`,
    };
  }
  return { reason: 'ReplyReceived', message: `${words.requests} and ${words.replies} were seen at both ends` };
}
