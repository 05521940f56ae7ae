// The shapes of a diagnosis: the Context every layer reads (built once by context.ts), the facts the
// layers share, and the Analysis the cause chain weighs. Types only.
//
// Each layer module (layers/<layer>.ts) adds the shape of its own analysis to LayerAnalyses by
// declaration merging, so that adding a layer is one file plus one line in layers/index.ts:
//
//   declare module '../analysis.ts' {
//     interface LayerAnalyses { readonly dns: DnsAnalysis }
//   }
import type { V1Namespace, V1Node, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import type {
  ConnectResult,
  ConnectStatus,
  DnsResult,
  HttpResult,
  IcmpResult,
  MtuResult,
  NodeResult,
  ProbeResult,
  ResolvConf,
  SkippedProbe,
} from '../probe/result.ts';
import type { Evidence } from './evidence.ts';
import type { FlowEndpoint } from './netpol/model.ts';
import type { DiagnosisInput } from './verdict.ts';

export interface DiagnosisOptions {
  /** The operator's probe image (--probe-image): the image of every reproduce command. */
  readonly probeImage?: string;
  /** NetworkPolicy ipBlock semantics of the cluster's CNI (false models Cilium). */
  readonly ipBlockMatchesPodIPs?: boolean;
  /** A DNS lookup slower than this is mentioned (default 1000 ms). */
  readonly slowDnsMs?: number;
  /** Conntrack fill ratio from which the table counts as full (default 0.9). */
  readonly conntrackFullRatio?: number;
  /** Search-path queries wasted before the answer from which amplification is reported (default 2). */
  readonly wastedQueriesWarning?: number;
}

export type DestinationKind = 'service' | 'pod' | 'host';
export type SourceKind = 'pod' | 'newPod' | 'node';
export type Transport = 'TCP' | 'UDP';

/** One probe pod that tested the path (pod mode, or a node source's hostNetwork probe). */
export interface Vantage {
  readonly probePod: string;
  readonly node?: string;
  readonly result: ProbeResult;
  /** The source pod this probe stands for (a clone on its node). */
  readonly sourcePod?: V1Pod;
  /** "pod shop/web-1 on node worker-1", "node worker-1", "a new pod on node worker-1". */
  readonly label: string;
}

/** A node probe's inspection of its node (ip_forward, bridge netfilter, conntrack, service rules). */
export interface NodeProbe {
  readonly node?: string;
  readonly probePod: string;
  readonly result: NodeResult;
}

/** One direct connection to a destination pod (an endpoints item, or the connect of a pod destination). */
export interface PodOutcome {
  readonly vantage: Vantage;
  readonly ip: string;
  readonly port: number;
  readonly status: ConnectStatus;
  readonly ms: number;
  readonly err?: string;
  readonly pod?: V1Pod;
  readonly node?: string;
  /** Same node as the vantage; undefined when either node is unknown. */
  readonly sameNode?: boolean;
}

export interface Backend {
  readonly pod: V1Pod;
  readonly name: string;
  readonly ip?: string;
  readonly node?: string;
  readonly ready: boolean;
  /** The resolved destination port on this pod (the Service's targetPort, or the destination port). */
  readonly port?: number;
  /** Whether a container of the pod declares that port (named ports always are, when they resolve). */
  readonly portDeclared: boolean;
}

export interface SliceAddress {
  readonly ip: string;
  readonly ready: boolean;
  readonly node?: string;
  readonly pod?: string;
}

/** Addresses of the EndpointSlices that carry the Service port (by name), and those that do not. */
export interface SliceAddresses {
  readonly ready: SliceAddress[];
  readonly notReady: SliceAddress[];
  readonly withoutPort: SliceAddress[];
}

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

/** The destination as the API shows it now: the Service, its port, the pods behind it. */
export interface DestinationFacts {
  readonly service?: V1Service;
  /** The Service was read and no longer exists. */
  readonly serviceGone: boolean;
  readonly serviceKind?: ServiceKind;
  readonly servicePort?: V1ServicePort;
  readonly portError?: string;
  readonly backends: Backend[];
  readonly slices?: SliceAddresses;
}

export interface SourceAnalysis {
  readonly kind: SourceKind;
  readonly pods: V1Pod[];
  readonly deleted: string[];
  readonly notRunning: V1Pod[];
  readonly node?: string;
  readonly nodeObject?: V1Node;
  readonly evidenceError?: string;
  /** The endpoint NetworkPolicy is evaluated for (the source pod, the new pod's labels, or the node). */
  readonly endpoint?: FlowEndpoint;
  readonly newPodLabels?: Record<string, string>;
}

export interface DnsLookup {
  readonly vantage: Vantage;
  readonly dns: DnsResult;
  readonly resolv?: ResolvConf;
}

/** The connection to the destination address itself: the ClusterIP, or a host's address. */
export interface ServiceAttempt {
  readonly vantage: Vantage;
  readonly connect?: ConnectResult;
  readonly skipped?: SkippedProbe;
  readonly http?: HttpResult;
}

/** Pod destinations and headless Services: connected to the pod, but the HTTP exchange failed. */
export interface PodHttpFailure {
  readonly vantage: Vantage;
  readonly connect: ConnectResult;
  readonly http?: HttpResult;
}

export interface IcmpOutcome {
  readonly vantage: Vantage;
  readonly icmp: IcmpResult;
}

export interface MtuOutcome {
  readonly vantage: Vantage;
  readonly mtu: MtuResult | SkippedProbe;
}

/** What a reproduce command needs to stand where the probe stood. */
export interface ReproContext {
  readonly namespace: string;
  readonly sourcePod?: string;
  readonly sourceNode?: string;
  readonly newPodLabels?: Record<string, string>;
  readonly image: string;
  readonly timeoutSeconds: number;
}

/** What every layer reads, normalised once from the evidence and the probe outputs (context.ts). */
export interface Context {
  readonly input: DiagnosisInput;
  readonly evidence: Evidence;
  readonly options: DiagnosisOptions;
  readonly generation: number;
  readonly namespace: string;
  readonly destNamespace: string;
  readonly kind: DestinationKind;
  readonly protocol: DiagnosisInput['spec']['protocol'];
  readonly transport: Transport;
  readonly expect: 'Reachable' | 'Blocked';
  /** spec.destination.port, or the protocol's default. */
  readonly port: number | string | undefined;
  /** "svc shop/backend:8080", "pod shop/db-0:5432", "example.com:443". */
  readonly destinationText: string;
  readonly probeProblem?: string;
  readonly probeNotes: string[];
  readonly nodes: V1Node[];
  readonly namespaceObject: (name: string) => V1Namespace | undefined;
  readonly source: SourceAnalysis;
  readonly vantages: Vantage[];
  readonly nodeProbes: NodeProbe[];
  readonly dest: DestinationFacts;
  readonly lookups: DnsLookup[];
  /** Attempts on the destination address (not the pods): the ClusterIP, or a host's address. */
  readonly attempts: ServiceAttempt[];
  readonly podOutcomes: PodOutcome[];
  readonly podHttpFailed: PodHttpFailure[];
  readonly icmp: IcmpOutcome[];
  readonly mtuResults: MtuOutcome[];
  /** Nodes of the source, the probes and the destination pods, sorted. */
  readonly involvedNodes: string[];
  readonly repro: ReproContext;
}

/** One layer's condition before rendering: True means the layer works. */
export interface LayerFinding {
  readonly layer: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/** Filled by the layer modules (see the header). */
export interface LayerAnalyses {}

/** The context with every layer's analysis: what a layer's finding reads. */
export type AnalysisBase = Context & LayerAnalyses;

/** The context, every layer's analysis and finding: what the cause chain weighs. */
export type Analysis = AnalysisBase & { readonly findings: LayerFinding[] };
