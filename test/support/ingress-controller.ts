// A minimal ingress controller for the e2e tests: no real one (ingress-nginx, Traefik, HAProxy...) can be
// built or pulled here in reasonable time, so this is a Deployment of the probe image running a short
// script that does what a controller does, for one class and one rule: it reads the Ingress objects of
// its namespace through the API (with its own ServiceAccount), picks the first rule of its class and
// proxies port 8080 to that Service (socat). It is ready only once it proxies, like a real controller.
// Its pods carry app.kubernetes.io/name=ingress-nginx, the label the operator's diagnosis looks for.
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import type { TestCluster } from './cluster.ts';

export const INGRESS_CLASS = 'netcheck-nginx';
export const INGRESS_CONTROLLER = 'k8s.io/ingress-nginx';
export const CONTROLLER_NAME = 'ingress-nginx-controller';
export const CONTROLLER_LABELS = { 'app.kubernetes.io/name': 'ingress-nginx', 'app.kubernetes.io/component': 'controller' };
export const CONTROLLER_PORT = 8080;

// Plain strings (not a template literal): the script's ${...} are bash's.
const CONTROLLER_SCRIPT = [
  'set -u',
  'sa=/var/run/secrets/kubernetes.io/serviceaccount',
  'api="https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"',
  'get() { curl -sf --max-time 5 --cacert "$sa/ca.crt" -H "Authorization: Bearer $(cat "$sa/token")" "$api$1"; }',
  'ns=$(cat "$sa/namespace") current="" proxy=""',
  'while true; do',
  '  backend=$(get "/apis/networking.k8s.io/v1/namespaces/$ns/ingresses" | jq -r --arg class "$INGRESS_CLASS" \'[.items[] | select(.spec.ingressClassName == $class) | .spec.rules[]?.http.paths[]?.backend.service | select(.name != null)] | first // empty | "\\(.name) \\(.port.number)"\')',
  '  want=""',
  '  if [ -n "$backend" ]; then',
  '    ip=$(get "/api/v1/namespaces/$ns/services/${backend% *}" | jq -r ".spec.clusterIP // empty")',
  '    [ -n "$ip" ] && want="$ip:${backend#* }"',
  '  fi',
  '  if [ "$want" != "$current" ]; then',
  '    [ -n "$proxy" ] && kill "$proxy" 2>/dev/null',
  '    proxy=""',
  '    if [ -n "$want" ]; then socat "TCP-LISTEN:$PORT,fork,reuseaddr" "TCP:$want" & proxy=$!; fi',
  '    echo "$(date +%T) routing class $INGRESS_CLASS to ${want:-nothing}"',
  '    current=$want',
  '  fi',
  '  sleep 1',
  'done',
].join('\n');

/** The IngressClass, the controller's ServiceAccount and Role, and its Deployment (waited until ready when
 *  an Ingress of its class routes somewhere; otherwise it stays unready, as a real controller would not). */
export async function createIngressController(cluster: TestCluster, namespace: string): Promise<void> {
  await cluster.networking.createIngressClass({ body: { metadata: { name: INGRESS_CLASS }, spec: { controller: INGRESS_CONTROLLER } } })
    .catch((error: { code?: number }) => { if (error.code !== 409) throw error; });
  await cluster.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: CONTROLLER_NAME } } });
  const rbac = cluster.kubeConfig.makeApiClient(RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace, body: {
    metadata: { name: CONTROLLER_NAME },
    rules: [{ apiGroups: ['networking.k8s.io'], resources: ['ingresses'], verbs: ['get', 'list'] }, { apiGroups: [''], resources: ['services'], verbs: ['get'] }],
  } });
  await rbac.createNamespacedRoleBinding({ namespace, body: {
    metadata: { name: CONTROLLER_NAME },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: CONTROLLER_NAME },
    subjects: [{ kind: 'ServiceAccount', name: CONTROLLER_NAME, namespace }],
  } });
  await cluster.apps.createNamespacedDeployment({ namespace, body: {
    metadata: { name: CONTROLLER_NAME, labels: CONTROLLER_LABELS },
    spec: {
      replicas: 1,
      selector: { matchLabels: CONTROLLER_LABELS },
      template: {
        metadata: { labels: CONTROLLER_LABELS },
        spec: {
          serviceAccountName: CONTROLLER_NAME,
          terminationGracePeriodSeconds: 0,
          containers: [{
            name: 'controller',
            image: cluster.probeImage,
            imagePullPolicy: 'IfNotPresent',
            command: ['bash', '-c', CONTROLLER_SCRIPT],
            env: [{ name: 'INGRESS_CLASS', value: INGRESS_CLASS }, { name: 'PORT', value: String(CONTROLLER_PORT) }],
            ports: [{ name: 'http', containerPort: CONTROLLER_PORT }],
            readinessProbe: { tcpSocket: { port: CONTROLLER_PORT }, periodSeconds: 1 },
          }],
        },
      },
    },
  } });
}

/** An Ingress of the controller's class routing host → service:port. */
export async function createIngress(cluster: TestCluster, namespace: string, name: string, host: string, service: string, port: number): Promise<void> {
  await cluster.networking.createNamespacedIngress({ namespace, body: {
    metadata: { name },
    spec: {
      ingressClassName: INGRESS_CLASS,
      rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: port } } } }] } }],
    },
  } });
}
