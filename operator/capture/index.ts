// Public API of the packet-capture analysis, for the controller and the probe-pod builder.
//
//   buildTcpdumpArgv()      argv for tcpdump in the probe pod (filter checked, never a shell line)
//   analyzeCapture()        one capture point -> flows, findings, verdict
//   attributeHop()          source + destination analyses -> which hop lost the exchange
//   summarizeCapture()      analysis -> the few hundred bytes that go into status
//   buildCaptureSecret()    pcap -> size-capped Secret owned by the check, plus the extraction command
//   selectCaptureSecretsToPrune()  existing capture Secrets + history limit -> names to delete

export * from './analyze.ts';
export { buildCaptureFilter, buildTcpdumpArgv, validateUserFilter } from './filter.ts';
export {
  DEFAULT_MAX_PACKETS,
  DEFAULT_SNAP_LENGTH,
  MAX_DURATION_SECONDS,
  MAX_PACKETS_LIMIT,
  MAX_SNAP_LENGTH,
  MAX_USER_FILTER_LENGTH,
  MIN_SNAP_LENGTH,
} from './filter.ts';
export type { ArgvResult, CaptureFilterSpec, CheckProtocol, FilterResult, TcpdumpOptions } from './filter.ts';
export { capPcap, LinkType, PcapFormatError, readPcap, writePcap } from './pcap.ts';
export type { PcapFile, PcapPacket } from './pcap.ts';
export * from './secret.ts';
