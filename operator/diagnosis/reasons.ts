// The diagnosis vocabulary: the reasons the diagnosis writes. The layers and their condition types
// belong to the layer modules (layers/<layer>.ts). Everything here is part of the API a user sees
// (`kubectl get networkchecks` shows failedLayer and reason; alerts, dashboards and GitOps health
// checks match on them), so names are CamelCase and STABLE once released: add new ones, never rename.

/** status.failedLayer when the probe itself could not run: an operator problem, not a network layer. */
export const PROBE_LAYER = 'Probe';

/**
 * Root causes: status.reason of an Unhealthy or Error check, and the reason of the layer condition
 * that explains it. The first block is the catalogue of ../shared/failure-modes.md.
 */
export const Cause = {
  // The catalogue.
  NoEndpoints: 'NoEndpoints',
  SelectorMismatch: 'SelectorMismatch',
  EndpointsNotReady: 'EndpointsNotReady',
  PortNotListening: 'PortNotListening',
  TargetPortMismatch: 'TargetPortMismatch',
  DNSServerUnavailable: 'DNSServerUnavailable',
  DNSEgressBlockedByPolicy: 'DNSEgressBlockedByPolicy',
  DNSSearchPathAmplification: 'DNSSearchPathAmplification',
  NameNotFound: 'NameNotFound',
  BlockedByNetworkPolicy: 'BlockedByNetworkPolicy',
  PolicyNotEnforced: 'PolicyNotEnforced',
  IPForwardingDisabled: 'IPForwardingDisabled',
  ServiceProxyMissing: 'ServiceProxyMissing',
  OverlayBroken: 'OverlayBroken',
  MTUMismatch: 'MTUMismatch',
  OverlaySourceAddressMismatch: 'OverlaySourceAddressMismatch',
  LoadBalancerPending: 'LoadBalancerPending',
  IngressControllerUnavailable: 'IngressControllerUnavailable',
  EgressBlocked: 'EgressBlocked',
  SourceNotReady: 'SourceNotReady',
  ProbeFailed: 'ProbeFailed',
  // Sharper or neighbouring causes.
  DNSTimeout: 'DNSTimeout',
  DNSServerFailure: 'DNSServerFailure',
  DNSNoAddress: 'DNSNoAddress',
  AllowedByNetworkPolicy: 'AllowedByNetworkPolicy',
  NoPolicyIsolates: 'NoPolicyIsolates',
  UnexpectedlyReachable: 'UnexpectedlyReachable',
  BridgeNetfilterDisabled: 'BridgeNetfilterDisabled',
  ConntrackTableFull: 'ConntrackTableFull',
  NodeNotReady: 'NodeNotReady',
  CNIAgentNotReady: 'CNIAgentNotReady',
  NodeNetworkUnavailable: 'NodeNetworkUnavailable',
  IngressMisrouted: 'IngressMisrouted',
  UnexpectedHTTPStatus: 'UnexpectedHTTPStatus',
  TLSError: 'TLSError',
  HTTPRequestFailed: 'HTTPRequestFailed',
  ServiceUnreachable: 'ServiceUnreachable',
  PodUnreachable: 'PodUnreachable',
  PacketLoss: 'PacketLoss',
  DiagnosisFailed: 'DiagnosisFailed',
  /** A ping to a ClusterIP: only IPVS answers it, so the check cannot tell anything (result Error). */
  ICMPToClusterIP: 'ICMPToClusterIP',
} as const;
export type CauseName = (typeof Cause)[keyof typeof Cause];

/** status.reason of a Healthy check (a warning reason from Cause may take their place). */
export const HealthyReason = {
  /** expect: Reachable, and it is. */
  Reachable: 'Reachable',
  /** expect: Blocked, and a NetworkPolicy denies the flow. */
  BlockedAsExpected: 'BlockedAsExpected',
  /** expect: Blocked and the flow is blocked, but no NetworkPolicy denies it (something else fails). */
  BlockedNotByPolicy: 'BlockedNotByPolicy',
  /** UDP: no reply and no ICMP error; the port is open or silently filtered. */
  UDPNoReply: 'UDPNoReply',
} as const;

/** Reasons of layer conditions that are not root causes. */
export const LayerReason = {
  // Unknown
  NotApplicable: 'NotApplicable',
  NotProbed: 'NotProbed',
  EvidenceUnavailable: 'EvidenceUnavailable',
  ProbeFailed: 'ProbeFailed',
  NotMeasurable: 'NotMeasurable',
  // True
  SourcePodRunning: 'SourcePodRunning',
  SourceNodeReady: 'SourceNodeReady',
  NewProbePod: 'NewProbePod',
  NameResolved: 'NameResolved',
  EndpointsAvailable: 'EndpointsAvailable',
  EndpointsPartiallyReady: 'EndpointsPartiallyReady',
  ServiceConnected: 'ServiceConnected',
  PodsConnected: 'PodsConnected',
  PolicyAllows: 'PolicyAllows',
  NotIsolated: 'NotIsolated',
  NodeHealthy: 'NodeHealthy',
  CNIAgentsReady: 'CNIAgentsReady',
  PathMTUOK: 'PathMTUOK',
  ExternalPathReady: 'ExternalPathReady',
  // False: the symptom, when the explanation lies on another layer
  ConnectionRefused: 'ConnectionRefused',
  ConnectionTimedOut: 'ConnectionTimedOut',
  HostUnreachable: 'HostUnreachable',
  ConnectFailed: 'ConnectFailed',
  SomeEndpointsFailing: 'SomeEndpointsFailing',
  CrossNodeFailing: 'CrossNodeFailing',
} as const;
