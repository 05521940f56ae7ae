// The NetworkCheck API's single source of truth. `npm run generate` turns this schema into
// crds/netcheck.dev_networkchecks.yaml and operator/api/types.generated.ts; a unit test fails when
// either committed file differs from what this module generates, so the types and the CRD cannot drift.
//
// Every property carries a description because `kubectl explain networkcheck.spec...` shows them.

export interface JSONSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  properties?: Record<string, JSONSchema>;
  required?: string[];
  items?: JSONSchema;
  additionalProperties?: JSONSchema;
  enum?: string[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  allOf?: JSONSchema[];
  pattern?: string;
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-validations'?: { rule: string; message: string; fieldPath?: string; reason?: string }[];
  anyOf?: JSONSchema[];
}

// TypeScript interface names for object schemas, kept beside the schema rather than in it
// (the API server rejects unknown keys in a CRD schema).
export const typeNames = new WeakMap<JSONSchema, string>();
function named(name: string, schema: JSONSchema): JSONSchema {
  typeNames.set(schema, name);
  return schema;
}

export const GROUP = 'netcheck.dev';
export const VERSION = 'v1alpha1';
export const KIND = 'NetworkCheck';
export const PLURAL = 'networkchecks';

// DNS-1123 subdomain (object names) and label (namespaces, node-independent names).
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
// IANA_SVC_NAME: the form of a named container port.
export const PORT_NAME = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
// A host name (RFC 1123, optional trailing dot); IP literals are accepted separately with isIP().
export const HOSTNAME = '^([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.)*[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\\.?$';
// Five whitespace-separated cron fields made of digits, names, '*', ',', '-', '/' and '?'.
// The operator parses the expression fully and reports anything subtler as Stalled.
export const CRON_5_FIELDS = '^\\s*[0-9A-Za-z*?,/-]+(\\s+[0-9A-Za-z*?,/-]+){4}\\s*$';
// A label key (optional DNS prefix and a name of up to 63 characters) and value.
export const LABEL_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
export const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$';

/** A node capture runs tcpdump on the host: headers only (the default snapLength). */
export const NODE_CAPTURE_MAX_SNAPLENGTH = 128;

const str = (description: string, extra: Partial<JSONSchema> = {}): JSONSchema => ({ type: 'string', description, ...extra });
const int = (description: string, extra: Partial<JSONSchema> = {}): JSONSchema => ({ type: 'integer', description, ...extra });
const bool = (description: string): JSONSchema => ({ type: 'boolean', description });
const objectName = (description: string): JSONSchema => str(description, { minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });

const labelMap = (description: string): JSONSchema => ({
  type: 'object',
  description,
  maxProperties: 64,
  additionalProperties: { type: 'string', maxLength: 63, pattern: LABEL_VALUE },
  'x-kubernetes-validations': [
    { rule: "self.all(k, k.matches(r'" + LABEL_KEY + "'))", message: 'label keys must be valid Kubernetes label keys (an optional DNS prefix, then a name of at most 63 characters)' },
  ],
});

const labelSelector = (description: string): JSONSchema => named('LabelSelector', {
  type: 'object',
  description,
  properties: {
    matchLabels: labelMap('Labels that a pod must carry, all of them (ANDed with matchExpressions).'),
    matchExpressions: {
      type: 'array',
      description: 'Label requirements, all of which must hold.',
      maxItems: 20,
      items: named('LabelSelectorRequirement', {
        type: 'object',
        description: 'A label requirement: key, operator and values.',
        required: ['key', 'operator'],
        properties: {
          key: str('The label key the requirement applies to.', { minLength: 1, maxLength: 317, pattern: LABEL_KEY }),
          operator: str('How the key relates to the values.', { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
          values: { type: 'array', description: 'Values for In and NotIn; must be empty for Exists and DoesNotExist.', maxItems: 50, items: { type: 'string', maxLength: 63, pattern: LABEL_VALUE } },
        },
        'x-kubernetes-validations': [
          { rule: "self.operator in ['In', 'NotIn'] ? (has(self.values) && size(self.values) > 0) : (!has(self.values) || size(self.values) == 0)", message: 'values must be non-empty for In and NotIn, and empty for Exists and DoesNotExist' },
        ],
      }),
    },
  },
});

const sourceSchema = named('NetworkCheckSource', {
  type: 'object',
  description: 'Where the probe runs from. Set exactly one of pod, podSelector, workload, newPod or node.',
  properties: {
    pod: objectName('The name of a pod in this NetworkCheck\'s namespace to probe from.'),
    podSelector: labelSelector('Pods in this namespace to probe from, chosen by labels; see spread.'),
    workload: named('WorkloadRef', {
      type: 'object',
      description: 'A workload in this namespace whose pods are probed from, like a podSelector over its pods.',
      required: ['kind', 'name'],
      properties: {
        kind: str('The workload kind.', { enum: ['Deployment', 'StatefulSet', 'DaemonSet'] }),
        name: objectName('The workload name.'),
      },
    }),
    newPod: named('NewPodSource', {
      type: 'object',
      description: 'A fresh probe pod in this namespace carrying these labels: tests what NetworkPolicies would do to an app that does not exist yet.',
      properties: {
        labels: labelMap('Labels for the new probe pod, so that NetworkPolicies select it as they would select the app.'),
      },
    }),
    node: objectName('A node name: probe from the node\'s host network. Needs the operator\'s node-probing permission (see README).'),
    via: str('How a pod source is probed. Clone (default): a new probe pod on the source pod\'s node carrying its labels, so the same NetworkPolicies select it. Ephemeral: an ephemeral container inside the source pod (exact network namespace; cannot be removed afterwards).', { enum: ['Clone', 'Ephemeral'] }),
    spread: str('With podSelector or workload: OnePod (default) probes from one Running pod; EveryNode probes from one pod on every node that runs a matching pod, which catches node-specific faults.', { enum: ['OnePod', 'EveryNode'] }),
  },
  'x-kubernetes-validations': [
    { rule: '[has(self.pod), has(self.podSelector), has(self.workload), has(self.newPod), has(self.node)].filter(x, x).size() == 1', message: 'spec.source: set exactly one of pod, podSelector, workload, newPod or node' },
    { rule: '!has(self.spread) || has(self.podSelector) || has(self.workload)', message: 'spec.source.spread: only valid with podSelector or workload; remove it or use one of those sources', fieldPath: '.spread' },
    { rule: '!has(self.via) || has(self.pod) || has(self.podSelector) || has(self.workload)', message: 'spec.source.via: only valid with pod, podSelector or workload sources; remove it for newPod and node sources', fieldPath: '.via' },
  ],
});

const destinationSchema = named('NetworkCheckDestination', {
  type: 'object',
  description: 'What the probe connects to. Set exactly one of service, pod, podSelector or host, and a port where the protocol needs one.',
  properties: {
    service: objectName('The name of a Service in destination.namespace.'),
    pod: objectName('The name of a pod in destination.namespace.'),
    podSelector: labelSelector('Pods in destination.namespace, chosen by labels; each is probed by its pod IP.'),
    host: str('A DNS name or an IP literal, inside or outside the cluster.', { minLength: 1, maxLength: 253 }),
    namespace: str('The namespace of service, pod or podSelector. Defaults to the NetworkCheck\'s own namespace.', { minLength: 1, maxLength: 63, pattern: DNS1123_LABEL }),
    port: {
      'x-kubernetes-int-or-string': true,
      description: 'The destination port: a number 1-65535, or a named port of the Service or pod. Required for TCP and UDP; HTTP and HTTPS default to 80 and 443.',
      // allOf, not anyOf: minimum/maximum only constrain numbers and pattern/maxLength only strings,
      // so each form gets exactly its own bounds (a typed anyOf is not structural).
      allOf: [{ minimum: 1, maximum: 65535 }, { minLength: 1, maxLength: 15, pattern: PORT_NAME }],
    },
  },
  'x-kubernetes-validations': [
    { rule: '[has(self.service), has(self.pod), has(self.podSelector), has(self.host)].filter(x, x).size() == 1', message: 'spec.destination: set exactly one of service, pod, podSelector or host' },
    { rule: "!has(self.host) || isIP(self.host) || self.host.matches(r'" + HOSTNAME + "')", message: 'spec.destination.host: must be a DNS name (RFC 1123) or an IP address', fieldPath: '.host' },
    { rule: '!has(self.port) || type(self.port) == int || has(self.service) || has(self.pod)', message: 'spec.destination.port: a named port needs a service or pod destination; use a port number for podSelector and host', fieldPath: '.port' },
    { rule: '!has(self.namespace) || !has(self.host)', message: 'spec.destination.namespace: has no meaning with host; put a cluster name in host (e.g. name.namespace.svc) or use service', fieldPath: '.namespace' },
  ],
});

const httpSchema = named('HTTPCheck', {
  type: 'object',
  description: 'HTTP request details; only with protocol HTTP or HTTPS.',
  properties: {
    path: str('The request path. Defaults to /.', { maxLength: 2048, pattern: '^/[^\\s]*$' }),
    method: str('The request method. Defaults to GET.', { enum: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] }),
    expectedStatus: {
      type: 'array',
      description: 'Status codes that count as success. Defaults to any 2xx or 3xx.',
      maxItems: 20,
      items: { type: 'integer', minimum: 100, maximum: 599 },
      'x-kubernetes-list-type': 'set',
    },
    host: str('The Host header (and TLS server name) to send, when it differs from the destination.', { maxLength: 253, pattern: HOSTNAME }),
  },
});

const captureSchema = named('CaptureSpec', {
  type: 'object',
  description: 'Packet capture alongside the probe: tcpdump in the probe pod, and optionally at the destination pods. The pcap is kept in a Secret owned by the check.',
  properties: {
    when: str('Never (default), OnFailure (capture every run, keep the pcap only when the run is not Healthy) or Always.', { enum: ['Never', 'OnFailure', 'Always'] }),
    durationSeconds: int('How long to capture at most, in seconds (default 15). The source capture also stops when the probes finish.', { minimum: 1, maximum: 120 }),
    maxPackets: int('Stop after this many packets (default 2000).', { minimum: 1, maximum: 10000 }),
    snapLength: int('Bytes kept of each packet; the default 128 keeps headers only.', { minimum: 68, maximum: 65535 }),
    filter: str('An extra tcpdump filter in a restricted grammar (host, net, port, portrange, src, dst, tcp, udp, icmp, and, or, not, parentheses, addresses and numbers), ANDed with the filter the operator builds. Never passed to a shell.', { maxLength: 256 }),
    destination: bool('Also capture at the destination: tcpdump in an ephemeral container added to each destination pod in the check\'s own namespace (pods elsewhere are never touched). Kubernetes keeps ephemeral containers in the pod spec, so this is refused with spec.schedule.'),
  },
  'x-kubernetes-validations': [
    {
      rule: '(has(self.maxPackets) ? self.maxPackets : 2000) * (has(self.snapLength) ? self.snapLength : 128) <= 8388608',
      message: 'spec.capture: maxPackets x snapLength must stay within 8 MiB (defaults 2000 and 128); lower one of them',
      fieldPath: '.maxPackets',
    },
  ],
});

const tolerationSchema = named('Toleration', {
  type: 'object',
  description: 'A toleration for the probe pod (see the Pod API). The operator allows only the taint keys its admin configured (an empty key, which tolerates every taint, only when allowed).',
  properties: {
    key: str('The taint key the toleration applies to; empty with Exists matches all taints.', { maxLength: 317 }),
    operator: str('Exists or Equal (default).', { enum: ['Exists', 'Equal'] }),
    value: str('The taint value for Equal.', { maxLength: 63 }),
    effect: str('The taint effect to match; empty matches all.', { enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] }),
    tolerationSeconds: int('For NoExecute: how long the pod stays bound after the taint appears.', { minimum: 0 }),
  },
  'x-kubernetes-validations': [
    { rule: "!has(self.key) || self.key == '' || self.key.matches(r'" + LABEL_KEY + "')", message: 'spec.probe.tolerations[].key: must be a valid taint key (an optional DNS prefix, then a name of at most 63 characters)', fieldPath: '.key' },
    { rule: "(has(self.key) && self.key != '') || (has(self.operator) && self.operator == 'Exists')", message: 'spec.probe.tolerations[]: a toleration without a key must use operator Exists', fieldPath: '.operator' },
  ],
});

const QUANTITY_PATTERN = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
const quantity = (description: string): JSONSchema => ({
  'x-kubernetes-int-or-string': true,
  description,
  allOf: [{ maxLength: 64, pattern: QUANTITY_PATTERN }],
  'x-kubernetes-validations': [{ rule: 'type(self) == int || isQuantity(self)', message: 'must be a resource quantity such as 100m or 64Mi' }],
});
// cpu and memory only: a probe has no use for GPUs or other extended resources. A map refused by
// CEL rather than two properties, so that another key is an error at admission, not silently pruned.
const cpuMemory = (description: string): JSONSchema => ({
  type: 'object',
  description,
  maxProperties: 2,
  additionalProperties: quantity('A quantity, e.g. cpu: 10m or memory: 64Mi; at most what the operator allows (default caps 500m and 256Mi).'),
  'x-kubernetes-validations': [{ rule: "self.all(k, k == 'cpu' || k == 'memory')", message: 'only cpu and memory may be set: a probe needs no GPUs or other extended resources' }],
});

const probeSchema = named('ProbeSpec', {
  type: 'object',
  description: 'The probe pod.',
  properties: {
    image: str('The probe image. Defaults to the operator\'s own (pinned) probe image; another one only if the operator\'s admin allows it (--allowed-probe-images), else the check is Stalled with ProbeImageNotAllowed. Node probes, destination captures and reproduce commands always use the operator\'s image.', { minLength: 1, maxLength: 512, pattern: '^[^\\s]+$' }),
    imagePullPolicy: str('Defaults to IfNotPresent.', { enum: ['Always', 'IfNotPresent', 'Never'] }),
    resources: named('ProbeResources', {
      type: 'object',
      description: 'Requests and limits for the probe container; small defaults apply.',
      properties: {
        requests: cpuMemory('Minimum resources; defaults cpu: 10m, memory: 16Mi.'),
        limits: cpuMemory('Maximum resources; defaults cpu: 200m, memory: 64Mi.'),
      },
    }),
    tolerations: { type: 'array', description: 'Tolerations so the probe pod can run on tainted nodes.', maxItems: 20, items: tolerationSchema },
  },
});

const specSchema = named('NetworkCheckSpec', {
  type: 'object',
  description: 'What to check: from a source to a destination over a protocol, once per spec change or on a schedule.',
  required: ['source', 'destination'],
  properties: {
    source: sourceSchema,
    destination: destinationSchema,
    protocol: str('TCP (default), UDP, HTTP, HTTPS, ICMP, or DNS (resolve the destination name only).', { enum: ['TCP', 'UDP', 'HTTP', 'HTTPS', 'ICMP', 'DNS'], default: 'TCP' }),
    http: httpSchema,
    expect: str('Reachable (default): the check is healthy when the destination answers. Blocked: a policy assertion, healthy when the connection is refused by policy.', { enum: ['Reachable', 'Blocked'], default: 'Reachable' }),
    timeoutSeconds: int('How long each probe step may take, in seconds.', { minimum: 1, maximum: 60, default: 5 }),
    schedule: str('A 5-field cron expression (minute hour day-of-month month day-of-week). Without it the check runs once per spec change.', { maxLength: 100, pattern: CRON_5_FIELDS }),
    timeZone: str('The IANA time zone of schedule, e.g. Europe/Berlin. Defaults to UTC.', { maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' }),
    suspend: bool('Stops scheduled runs; a netcheck.dev/run-now annotation still runs the check once.'),
    capture: captureSchema,
    probe: probeSchema,
    historyLimit: int('How many past runs status.history keeps.', { minimum: 0, maximum: 100, default: 10 }),
  },
  'x-kubernetes-validations': [
    { rule: "has(self.destination.port) || !(self.protocol in ['TCP', 'UDP'])", message: 'spec.destination.port: required for protocol TCP and UDP', fieldPath: '.destination' },
    { rule: "!has(self.destination.port) || !(self.protocol in ['ICMP', 'DNS'])", message: 'spec.destination.port: has no meaning for protocol ICMP or DNS; remove it', fieldPath: '.destination.port' },
    { rule: "!has(self.http) || self.protocol in ['HTTP', 'HTTPS']", message: 'spec.http: only valid with protocol HTTP or HTTPS', fieldPath: '.http' },
    { rule: "self.protocol != 'DNS' || has(self.destination.service) || (has(self.destination.host) && !isIP(self.destination.host))", message: 'spec.destination: protocol DNS resolves a name, so it needs a service or a host name (not an IP)', fieldPath: '.destination' },
    { rule: '!has(self.timeZone) || has(self.schedule)', message: 'spec.timeZone: only valid with spec.schedule', fieldPath: '.timeZone' },
    { rule: "!has(self.source.node) || self.expect != 'Blocked'", message: 'spec.expect: Blocked asserts a NetworkPolicy, which never applies to a node source', fieldPath: '.expect' },
    { rule: '!has(self.capture) || !has(self.capture.destination) || !self.capture.destination || !has(self.schedule)', message: 'spec.capture.destination: each run adds an ephemeral container to the destination pod, which Kubernetes never removes; not allowed with spec.schedule', fieldPath: '.capture.destination' },
    { rule: "!has(self.source.via) || self.source.via != 'Ephemeral' || !has(self.schedule)", message: 'spec.source.via: Ephemeral adds a container to the source pod on every run, which Kubernetes never removes; not allowed with spec.schedule (use Clone)', fieldPath: '.source.via' },
    { rule: '!has(self.source.node) || !has(self.capture) || !has(self.capture.snapLength) || self.capture.snapLength <= ' + NODE_CAPTURE_MAX_SNAPLENGTH, message: 'spec.capture.snapLength: a node capture sees the host\'s traffic, so it keeps headers only: at most ' + NODE_CAPTURE_MAX_SNAPLENGTH + ' bytes', fieldPath: '.capture.snapLength' },
  ],
});

const conditionSchema = named('Condition', {
  type: 'object',
  description: 'A metav1.Condition.',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: str('The condition type, e.g. Ready or DNSResolved.', { maxLength: 316 }),
    status: str('True, False or Unknown.', { enum: ['True', 'False', 'Unknown'] }),
    reason: str('A CamelCase reason.', { maxLength: 1024 }),
    message: str('A sentence with the evidence.', { maxLength: 32768 }),
    observedGeneration: int('The spec generation the condition was computed for.', { format: 'int64', minimum: 0 }),
    lastTransitionTime: str('When status last changed.', { format: 'date-time' }),
  },
});

const historyEntrySchema = named('HistoryEntry', {
  type: 'object',
  description: 'One past run.',
  required: ['time', 'result'],
  properties: {
    time: str('When the run started.', { format: 'date-time' }),
    result: str('The run\'s result.', { enum: ['Healthy', 'Unhealthy', 'Error'] }),
    failedLayer: str('The ladder layer that failed, if any.', { maxLength: 64 }),
    reason: str('The root-cause reason.', { maxLength: 128 }),
    durationMs: int('How long the run took, in milliseconds.', { minimum: 0 }),
    captureSecrets: { type: 'array', description: 'The Secrets holding this run\'s packet captures; deleted when the entry leaves the history.', maxItems: 16, items: { type: 'string', maxLength: 253 } },
  },
});

const capturePointSchema = named('CapturePointStatus', {
  type: 'object',
  description: 'What one capture point saw.',
  required: ['point', 'pod'],
  properties: {
    point: str('Source (the probe) or Destination (a destination pod).', { enum: ['Source', 'Destination'] }),
    pod: str('The pod whose network namespace was captured.', { maxLength: 253 }),
    packets: int('Packets captured.', { minimum: 0 }),
    durationSeconds: int('Seconds between the first and the last packet.', { minimum: 0 }),
    reason: str('What the packets show, CamelCase (e.g. NoSynAck, ConnectionReset, FragmentationNeeded, DnsNoAnswer, Healthy).', { maxLength: 64 }),
    message: str('The evidence, one sentence.', { maxLength: 512 }),
    tcp: named('CaptureTcpCounts', {
      type: 'object', description: 'TCP counts for the target flows.',
      properties: { syn: int('SYNs.', { minimum: 0 }), synAck: int('SYN-ACKs.', { minimum: 0 }), rst: int('RSTs.', { minimum: 0 }), retransmissions: int('Retransmitted segments.', { minimum: 0 }), largestSegment: int('Largest IP packet, in bytes.', { minimum: 0 }) },
    }),
    icmp: named('CaptureIcmpCounts', {
      type: 'object', description: 'ICMP errors about the target flows.',
      properties: { unreachable: int('Destination unreachable.', { minimum: 0 }), fragNeeded: int('Fragmentation needed.', { minimum: 0 }), nextHopMtu: int('The MTU a frag-needed message reported.', { minimum: 0 }) },
    }),
    dns: named('CaptureDnsCounts', {
      type: 'object', description: 'DNS transactions for the destination name.',
      properties: {
        queries: int('Queries sent.', { minimum: 0 }), answered: int('Transactions answered.', { minimum: 0 }), unanswered: int('Transactions without an answer.', { minimum: 0 }),
        rcodes: { type: 'object', description: 'Answers by rcode.', maxProperties: 16, additionalProperties: { type: 'integer', minimum: 0 } },
      },
    }),
    secret: str('The Secret holding the pcap (key capture.pcap), when kept.', { maxLength: 253 }),
    bytes: int('Size of the stored pcap.', { minimum: 0 }),
    truncated: bool('The stored pcap was cut to the size cap; the analysis saw all of it.'),
    extract: str('A command that writes the pcap to a file Wireshark, tshark or tcpdump -r open.', { maxLength: 1024 }),
  },
});

const captureStatusSchema = named('CaptureStatus', {
  type: 'object',
  description: 'The packet capture of the latest run that captured.',
  properties: {
    runId: str('The run the capture belongs to.', { maxLength: 63 }),
    state: str('Kept (stored in Secrets), Discarded (OnFailure and the run was Healthy), or Failed (no usable capture).', { enum: ['Kept', 'Discarded', 'Failed'] }),
    conclusion: str('Where the packets stopped, from all capture points.', { maxLength: 1024 }),
    points: { type: 'array', description: 'One entry per capture point.', maxItems: 16, items: capturePointSchema },
  },
});

/** How a hop (or a policy edge) of the drawn path went. */
const HOP_RESULTS = ['Ok', 'Failed', 'Unknown', 'Warning'];

const pathHopSchema = named('PathHop', {
  type: 'object',
  description: 'One hop of the packet path, with what the run measured there.',
  required: ['kind', 'name', 'result'],
  properties: {
    kind: str('Source (the pod or node the probe stood for), DNS (the lookup), Service (the ClusterIP), Proxy (the source node\'s service proxy and forwarding), Backend (a destination pod) or External (a host outside the cluster).', { enum: ['Source', 'DNS', 'Service', 'Proxy', 'Backend', 'External'] }),
    layer: str('The diagnosis layer whose condition decides this hop (e.g. DNS, Endpoints, Node, PodIP).', { maxLength: 64 }),
    name: str('What the hop is: the source ("pod shop/web", "node worker-1"), the name looked up, the Service (namespace/name), "kube-proxy", the backend pod\'s name, or host:port.', { maxLength: 512 }),
    address: str('The address the packets went to: a pod IP, the DNS server, ClusterIP:port, podIP:targetPort or the host\'s IP:port.', { maxLength: 64 }),
    node: str('The node the hop is on.', { maxLength: 253 }),
    sameNode: bool('Backends: true on the source\'s node, false on another node (the overlay is in the path).'),
    result: str('Ok, Failed, Unknown (not tested) or Warning.', { enum: HOP_RESULTS }),
    detail: str('What was measured there, e.g. "connected in 1 ms", "timed out after 5001 ms (no answer to SYN)", "-> 10.96.12.7 in 2 ms", or the layer\'s reason.', { maxLength: 512 }),
    latencyMs: int('The time the hop took to answer (a connection, a lookup), when it answered.', { minimum: 0 }),
    rootCause: bool('The root cause (status.reason) sits on this hop.'),
    policy: named('PathPolicyEdge', {
      type: 'object',
      description: 'The NetworkPolicy verdict on this hop\'s edge: egress out of the source (and to DNS), ingress into a backend.',
      required: ['direction', 'result'],
      properties: {
        direction: str('Egress or Ingress.', { enum: ['Egress', 'Ingress'] }),
        result: str('Ok (allowed or not restricted), Failed (denied), Warning (denied by a policy nothing enforces) or Unknown.', { enum: HOP_RESULTS }),
        policies: { type: 'array', description: 'namespace/name of the policies that decide the edge: the denying ones when denied, else the allowing one.', maxItems: 8, items: { type: 'string', maxLength: 317 } },
        text: str('The verdict in words: "not restricted", "denied", "allowed by ingress rule #0 of".', { maxLength: 256 }),
      },
    }),
  },
});

const pathSchema = named('NetworkPath', {
  type: 'object',
  description: 'The packet path of the latest completed run, hop by hop, with the addresses and what each hop did: source -> DNS -> Service ClusterIP -> the node\'s service proxy -> each backend pod (or the external host). One path per probe vantage (spread: EveryNode probes from several nodes); each path starts at its Source hop. Written with the verdict; absent when the probe could not run.',
  properties: {
    hops: { type: 'array', description: 'The hops in packet order, at most 40; consecutive Backend hops fan out from the hop before them.', maxItems: 40, items: pathHopSchema },
    hopsOmitted: int('Hops left out to stay within 40: backends past 16 per path, then whole paths of further vantages (failing paths are kept first).', { minimum: 0 }),
  },
});

const statusSchema = named('NetworkCheckStatus', {
  type: 'object',
  description: 'What the operator observed.',
  properties: {
    observedGeneration: int('The spec generation this status describes.', { format: 'int64', minimum: 0 }),
    result: str('Pending, Running, Healthy, Unhealthy or Error.', { enum: ['Pending', 'Running', 'Healthy', 'Unhealthy', 'Error'] }),
    failedLayer: str('The first layer of the diagnosis ladder that explains the failure (e.g. DNS, Endpoints, NetworkPolicy).', { maxLength: 64 }),
    reason: str('The root cause, CamelCase (e.g. NoEndpoints, BlockedByNetworkPolicy).', { maxLength: 128 }),
    summary: str('One sentence with the evidence.', { maxLength: 4096 }),
    target: named('TargetSummary', {
      type: 'object',
      description: 'The source and destination in short form, for kubectl get.',
      properties: {
        source: str('e.g. pod/web-1 or node/worker-2.', { maxLength: 300 }),
        destination: str('e.g. svc/backend:8080 or example.com:443.', { maxLength: 300 }),
      },
    }),
    conditions: {
      type: 'array',
      description: 'Ready, Reconciling and Stalled (kstatus), and one condition per diagnosis layer.',
      maxItems: 32,
      items: conditionSchema,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    },
    lastRun: named('RunRecord', {
      type: 'object',
      description: 'The latest run.',
      properties: {
        id: str('The run identifier, also the probe pods\' netcheck.dev/run label.', { maxLength: 63 }),
        generation: int('The spec generation the run checked.', { format: 'int64', minimum: 0 }),
        trigger: str('Why the run started: SpecChanged, Scheduled, MissedRun or RunNow.', { maxLength: 64 }),
        scheduledTime: str('The schedule fire time the run answered, for scheduled runs.', { format: 'date-time' }),
        startTime: str('When the run started.', { format: 'date-time' }),
        completionTime: str('When the run finished.', { format: 'date-time' }),
        durationMs: int('How long the run took, in milliseconds.', { minimum: 0 }),
        probePods: { type: 'array', description: 'The probe pods of the run.', maxItems: 64, items: { type: 'string', maxLength: 253 } },
      },
    }),
    nextRunTime: str('When the next scheduled run is due.', { format: 'date-time' }),
    runNowHandled: str('The last netcheck.dev/run-now annotation value that was run, so that each value runs once.', { maxLength: 256 }),
    lastScheduledTime: str('The latest schedule fire time that was run or deliberately skipped (missed while the operator was down).', { format: 'date-time' }),
    history: { type: 'array', description: 'Past runs, newest first, at most spec.historyLimit.', maxItems: 100, items: historyEntrySchema },
    reproduce: { type: 'array', description: 'kubectl commands that repeat the failing probe by hand.', maxItems: 10, items: { type: 'string', maxLength: 2048 } },
    capture: captureStatusSchema,
    path: pathSchema,
  },
});

export const networkCheckSchema: JSONSchema = {
  type: 'object',
  description: 'NetworkCheck checks that a source can (or cannot) reach a destination and explains, layer by layer, why not.',
  required: ['spec'],
  properties: {
    apiVersion: str('APIVersion of this object.'),
    kind: str('Kind of this object.'),
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
};

export const printerColumns = [
  { name: 'Source', type: 'string', jsonPath: '.status.target.source', description: 'Where the probe runs from' },
  { name: 'Destination', type: 'string', jsonPath: '.status.target.destination', description: 'What the probe connects to' },
  { name: 'Protocol', type: 'string', jsonPath: '.spec.protocol' },
  { name: 'Result', type: 'string', jsonPath: '.status.result' },
  { name: 'Layer', type: 'string', jsonPath: '.status.failedLayer', description: 'The failing diagnosis layer' },
  { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
  { name: 'Last Run', type: 'date', jsonPath: '.status.lastRun.completionTime' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

export const customResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${PLURAL}.${GROUP}` },
  spec: {
    group: GROUP,
    names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'networkcheck', shortNames: ['netcheck'], categories: ['netcheck'] },
    scope: 'Namespaced',
    versions: [{
      name: VERSION,
      served: true,
      storage: true,
      subresources: { status: {} },
      additionalPrinterColumns: printerColumns,
      schema: { openAPIV3Schema: networkCheckSchema },
    }],
  },
};
