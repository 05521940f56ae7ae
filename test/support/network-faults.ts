// Fault injections on the local cluster's pod network and nodes, beyond those of cluster.ts: the VXLAN
// overlay (test/cluster/overlay.sh), MTUs over the tunnel, an "outside" host for egress, and node-level
// state (forwarding, bridge netfilter, conntrack, kube-proxy's chains). Each returns an async Undo, like
// the injections of TestCluster; every one acts on the real node (nsenter into its network namespace).
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { once, runHost, waitFor, type TestCluster, type Undo } from './cluster.ts';

const FAULT_COMMENT = 'netcheck-e2e-fault';

function nodeNumber(cluster: TestCluster, nodeName: string): number {
  const index = cluster.info!.nodes.findIndex((node) => node.name === nodeName);
  if (index < 0) throw new Error(`no node ${nodeName}`);
  return index + 1;
}

/** Drops VXLAN (UDP 4789) arriving at every node: cross-node pod traffic dies, same-node traffic lives. */
export async function blockOverlay(cluster: TestCluster): Promise<Undo> {
  const info = cluster.info!;
  if (info.podNetworkMode !== 'vxlan') throw new Error(`the cluster runs without an overlay (NETCHECK_POD_NETWORK=${info.podNetworkMode})`);
  const undos: Undo[] = [];
  for (const node of info.nodes) {
    undos.push(await cluster.dropTraffic({ node: node.name, hook: 'PREROUTING', protocol: 'udp', port: info.vxlan.port }));
  }
  return once(async () => { for (const undo of undos.reverse()) await undo(); });
}

/**
 * Re-creates a node's VXLAN device so that it encapsulates from `address` (added to the node's link as a
 * second address, like the DHCP address of seed 003 case 1) instead of its InternalIP, and annotates the
 * node with that address as flannel would (flannel.alpha.coreos.com/public-ip). The other nodes accept
 * VXLAN only from the nodes' InternalIPs, so they drop this node's packets. The undo restores both.
 */
export async function moveOverlaySource(cluster: TestCluster, nodeName: string, address: string): Promise<Undo> {
  const node = cluster.node(nodeName);
  if (!node.netns) throw new Error('moveOverlaySource needs a node with its own network namespace (node 2 or later)');
  const number = String(nodeNumber(cluster, nodeName));
  const script = cluster.info!.overlayScript;
  await runHost('ip', ['-n', node.netns, 'addr', 'add', `${address}/32`, 'dev', 'eth0']);
  await runHost('bash', [script, 'rebuild', number, address]);
  return once(async () => {
    await runHost('bash', [script, 'rebuild', number]);
    await runHost('ip', ['-n', node.netns, 'addr', 'del', `${address}/32`, 'dev', 'eth0'], { allowFailure: true });
  });
}

/** The host-side veth of a pod's eth0: the peer index netlink reports ("eth0@if12"), looked up in the
 *  node's namespace. (Not /sys/class/net: sysfs shows the namespace it was mounted in, the host's.) */
async function hostVethOf(cluster: TestCluster, namespace: string, pod: string): Promise<{ node: string; name: string }> {
  const shown = (await cluster.inPodNetns(namespace, pod, ['ip', '-o', 'link', 'show', 'dev', 'eth0'])).stdout;
  const peer = /eth0@if(\d+)/.exec(shown)?.[1];
  const nodeName = (await cluster.core.readNamespacedPod({ name: pod, namespace })).spec?.nodeName ?? '';
  const links = (await cluster.runOnNode(nodeName, ['ip', '-o', 'link', 'show'])).stdout.split('\n');
  const line = links.find((candidate) => candidate.startsWith(`${peer}: `));
  const name = line?.split(': ')[1]?.split('@')[0];
  if (!peer || !name) throw new Error(`no host veth (peer index ${peer}) on ${nodeName} for ${namespace}/${pod}: ${shown.trim()}`);
  return { node: nodeName, name };
}

/**
 * Sets a pod's MTU (its eth0 and the host end of its veth) to `mtu`, e.g. 1500 on a 1450 overlay: the
 * pod then sends segments the tunnel cannot carry. The undo restores both ends.
 */
export async function setPodLinkMtu(cluster: TestCluster, namespace: string, pod: string, mtu: number): Promise<Undo> {
  if (!Number.isInteger(mtu) || mtu < 576 || mtu > 9000) throw new Error(`invalid MTU ${mtu}`);
  const veth = await hostVethOf(cluster, namespace, pod);
  const restorePod = await cluster.lowerPodMtu(namespace, pod, mtu);
  const shown = (await cluster.runOnNode(veth.node, ['ip', '-o', 'link', 'show', 'dev', veth.name])).stdout;
  const original = Number(/ mtu (\d+)/.exec(shown)?.[1]);
  await cluster.runOnNode(veth.node, ['ip', 'link', 'set', 'dev', veth.name, 'mtu', String(mtu)]);
  return once(async () => {
    await cluster.runOnNode(veth.node, ['ip', 'link', 'set', 'dev', veth.name, 'mtu', String(original)], { allowFailure: true });
    await restorePod();
  });
}

/**
 * Drops the ICMP "fragmentation needed" errors a node sends (as a host firewall or a security group that
 * filters ICMP does), so that path-MTU discovery cannot recover: oversized packets vanish. The undo
 * removes the rules.
 */
export async function filterFragmentationNeeded(cluster: TestCluster): Promise<Undo> {
  const tag = `${FAULT_COMMENT}-${randomBytes(4).toString('hex')}`;
  const spec = ['-p', 'icmp', '--icmp-type', 'fragmentation-needed', '-m', 'comment', '--comment', tag, '-j', 'DROP'];
  const nodes = cluster.info!.nodes.map((node) => node.name);
  for (const node of nodes) await cluster.runOnNode(node, ['iptables', '-w', '-t', 'mangle', '-I', 'OUTPUT', '1', ...spec]);
  return once(async () => {
    for (const node of nodes) await cluster.runOnNode(node, ['iptables', '-w', '-t', 'mangle', '-D', 'OUTPUT', ...spec], { allowFailure: true });
  });
}

/** A host outside the cluster, served from a network namespace of this machine. */
export interface OutsideHost {
  address: string;
  port: number;
  /** Removes node 1's route to the outside network (pods' packets then head for the default route, where
   *  the cluster's guard drops them): "a missing route". */
  removeRoute(): Promise<Undo>;
  undo: Undo;
}

const OUTSIDE = { netns: 'netcheck-e2e-egress', hostVeth: 'ncegress0', peerVeth: 'ncegress1', network: '198.18.0.0/24', hostAddress: '198.18.0.1', address: '198.18.0.2', port: 8080 } as const;

/**
 * Creates an "outside" host: a network namespace behind a veth on node 1, with a TCP listener on
 * 198.18.0.2:8080 (RFC 2544's benchmark range, which exists only here). The cluster's guard lets pod
 * traffic through to exactly that address (a rule at the top of NETCHECK-GUARD, removed by the undo);
 * everything else that would leave the machine is still dropped.
 */
export async function createOutsideHost(cluster: TestCluster): Promise<OutsideHost> {
  cluster.node();
  const remove = async () => {
    await runHost('ip', ['netns', 'delete', OUTSIDE.netns], { allowFailure: true });
    await runHost('ip', ['link', 'delete', OUTSIDE.hostVeth], { allowFailure: true });
  };
  await remove();
  await runHost('ip', ['netns', 'add', OUTSIDE.netns]);
  await runHost('ip', ['link', 'add', OUTSIDE.hostVeth, 'type', 'veth', 'peer', 'name', OUTSIDE.peerVeth, 'netns', OUTSIDE.netns]);
  await runHost('ip', ['addr', 'add', `${OUTSIDE.hostAddress}/24`, 'dev', OUTSIDE.hostVeth]);
  await runHost('ip', ['link', 'set', OUTSIDE.hostVeth, 'up']);
  for (const args of [['addr', 'add', `${OUTSIDE.address}/24`, 'dev', OUTSIDE.peerVeth], ['link', 'set', OUTSIDE.peerVeth, 'up'], ['link', 'set', 'lo', 'up'], ['route', 'add', 'default', 'via', OUTSIDE.hostAddress]]) {
    await runHost('ip', ['-n', OUTSIDE.netns, ...args]);
  }
  const guardRule = ['-o', OUTSIDE.hostVeth, '-d', `${OUTSIDE.address}/32`, '-m', 'comment', '--comment', `${FAULT_COMMENT}: the e2e outside host`, '-j', 'RETURN'];
  await runHost('iptables', ['-w', '-t', 'mangle', '-I', 'NETCHECK-GUARD', '1', ...guardRule]);
  const listener: ChildProcess = spawn('ip', ['netns', 'exec', OUTSIDE.netns, 'nc', '-l', '-k', OUTSIDE.address, String(OUTSIDE.port)], { stdio: 'ignore' });
  await waitFor('the outside listener', async () => (await runHost('nc', ['-z', '-w', '1', OUTSIDE.address, String(OUTSIDE.port)], { allowFailure: true })).exitCode === 0, 10_000);
  return {
    address: OUTSIDE.address,
    port: OUTSIDE.port,
    removeRoute: async () => {
      await runHost('ip', ['route', 'del', OUTSIDE.network, 'dev', OUTSIDE.hostVeth]);
      return once(async () => { await runHost('ip', ['route', 'replace', OUTSIDE.network, 'dev', OUTSIDE.hostVeth, 'src', OUTSIDE.hostAddress]); });
    },
    undo: once(async () => {
      listener.kill('SIGKILL');
      await runHost('iptables', ['-w', '-t', 'mangle', '-D', 'NETCHECK-GUARD', ...guardRule], { allowFailure: true });
      await remove();
    }),
  };
}

// ---------------------------------------------------------------------------------------------------
// Node-level state, for the node-vantage probe (issue 12 section 3). Each acts on one node's namespace.
