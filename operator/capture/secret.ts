// Pure helpers for storing captures in Secrets owned by the NetworkCheck: the manifest
// (size-capped, headers-only), its name and labels, and the command a user pastes to get the
// pcap out for Wireshark/tshark. Which Secrets go is the controller's (their names are in the
// history entries: controller/capture.ts).

import { LABEL_CHECK, LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY } from '../api/defaults.ts';
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import type { CapturePoint } from './analyze.ts';
import { DEFAULT_SNAP_LENGTH } from './filter.ts';
import { capPcap } from './pcap.ts';

export const CAPTURE_SECRET_DATA_KEY = 'capture.pcap';
export const CAPTURE_SECRET_TYPE = 'netcheck.dev/capture';
// The labels every operator-created object carries are defined once, with the probe pods'.
export { LABEL_CHECK, LABEL_MANAGED_BY, LABEL_RUN, MANAGED_BY } from '../api/defaults.ts';
export const LABEL_CAPTURE_POINT = 'netcheck.dev/capture-point';
export const ANNOTATION_CAPTURED_AT = 'netcheck.dev/captured-at';
export const ANNOTATION_PACKETS = 'netcheck.dev/packets';
export const ANNOTATION_TRUNCATED = 'netcheck.dev/truncated';
export const ANNOTATION_ORIGINAL_BYTES = 'netcheck.dev/original-bytes';

export const DEFAULT_CHECK_API_VERSION = 'netcheck.dev/v1alpha1';
export const DEFAULT_CHECK_KIND = 'NetworkCheck';

/** Default pcap budget per Secret. */
export const DEFAULT_CAPTURE_MAX_BYTES = 256 * 1024;
/** Hard ceiling: base64 inflates by 4/3 and a Secret must stay under 1 MiB. */
export const MAX_CAPTURE_SECRET_BYTES = 700 * 1024;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_SUBDOMAIN_LENGTH = 253;
const MAX_LABEL_VALUE_LENGTH = 63;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SAFE_OUTPUT_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/**
 * A label value standing for `text`: itself when valid, else a clipped form with a hash
 * suffix. Use this for label selectors too, so lookups match what was written.
 */
export function labelValueFor(text: string): string {
  if (text.length <= MAX_LABEL_VALUE_LENGTH && LABEL_VALUE.test(text)) return text;
  const cleaned = text.replace(/[^-A-Za-z0-9_.]/g, '-');
  const head = cleaned.slice(0, MAX_LABEL_VALUE_LENGTH - 9).replace(/[^A-Za-z0-9]+$/, '').replace(/^[^A-Za-z0-9]+/, '');
  return head ? `${head}-${shortHash(text)}` : shortHash(text);
}

function sanitizeNamePart(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
}

const POINT_SUFFIX: Record<CapturePoint, string> = { source: 'src', destination: 'dst' };

/** `<check>-cap-<run>-<src|dst>`, clipped with a hash suffix to stay a valid Secret name. */
export function captureSecretName(checkName: string, runId: string, point: CapturePoint): string {
  const run = sanitizeNamePart(runId) || shortHash(runId);
  const suffix = `-cap-${run}-${POINT_SUFFIX[point]}`;
  const full = `${checkName}${suffix}`;
  if (full.length <= MAX_SUBDOMAIN_LENGTH && DNS1123_SUBDOMAIN.test(full)) return full;
  const hash = shortHash(`${checkName}/${runId}/${point}`);
  const budget = MAX_SUBDOMAIN_LENGTH - hash.length - 1;
  const tail = `-cap-${run}`.slice(0, 40);
  const head = sanitizeNamePart(checkName.replace(/\./g, '-')).slice(0, Math.max(1, budget - tail.length - 4));
  return `${head}${tail}-${POINT_SUFFIX[point]}-${hash}`.replace(/-+/g, '-');
}

export interface CheckReference {
  name: string;
  namespace: string;
  uid: string;
  apiVersion?: string;
  kind?: string;
}

export interface CaptureSecretInput {
  check: CheckReference;
  runId: string;
  point: CapturePoint;
  /** The pcap as written by tcpdump. */
  pcap: Uint8Array;
  /** Byte budget for the stored pcap; clamped to MAX_CAPTURE_SECRET_BYTES. */
  maxBytes?: number;
  /** Packets are cut to this many bytes (headers only). Default DEFAULT_SNAP_LENGTH. */
  snapLength?: number;
  capturedAt?: Date;
}

export interface CaptureSecret {
  secret: V1Secret;
  name: string;
  /** Packets dropped or cut to fit the budget. */
  truncated: boolean;
  originalBytes: number;
  storedBytes: number;
  packetsStored: number;
  packetsDropped: number;
  extractCommand: string;
}

/** The Secret manifest holding one capture point's pcap for one run. */
export function buildCaptureSecret(input: CaptureSecretInput): CaptureSecret {
  const { check } = input;
  if (!DNS1123_SUBDOMAIN.test(check.namespace) || !DNS1123_LABEL.test(check.namespace)) {
    throw new Error(`namespace ${JSON.stringify(check.namespace)} is not a valid namespace name`);
  }
  const maxBytes = Math.min(input.maxBytes ?? DEFAULT_CAPTURE_MAX_BYTES, MAX_CAPTURE_SECRET_BYTES);
  const capped = capPcap(input.pcap, { maxBytes, snapLength: input.snapLength ?? DEFAULT_SNAP_LENGTH });
  const name = captureSecretName(check.name, input.runId, input.point);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    type: CAPTURE_SECRET_TYPE,
    immutable: true,
    metadata: {
      name,
      namespace: check.namespace,
      labels: {
        [LABEL_CHECK]: labelValueFor(check.name),
        [LABEL_RUN]: labelValueFor(input.runId),
        [LABEL_CAPTURE_POINT]: input.point,
        [LABEL_MANAGED_BY]: MANAGED_BY,
      },
      annotations: {
        [ANNOTATION_CAPTURED_AT]: (input.capturedAt ?? new Date()).toISOString(),
        [ANNOTATION_PACKETS]: String(capped.packetsKept),
        [ANNOTATION_TRUNCATED]: String(capped.truncated),
        [ANNOTATION_ORIGINAL_BYTES]: String(input.pcap.byteLength),
      },
      ownerReferences: [
        {
          apiVersion: check.apiVersion ?? DEFAULT_CHECK_API_VERSION,
          kind: check.kind ?? DEFAULT_CHECK_KIND,
          name: check.name,
          uid: check.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    data: { [CAPTURE_SECRET_DATA_KEY]: Buffer.from(capped.bytes).toString('base64') },
  };
  return {
    secret,
    name,
    truncated: capped.truncated,
    originalBytes: input.pcap.byteLength,
    storedBytes: capped.bytes.byteLength,
    packetsStored: capped.packetsKept,
    packetsDropped: capped.packetsDropped,
    extractCommand: captureExtractionCommand(name, check.namespace),
  };
}

/**
 * The copy-paste command that writes the pcap to a local file. Names are validated, so the
 * text needs no further quoting.
 */
export function captureExtractionCommand(secretName: string, namespace: string, outputFile = 'capture.pcap'): string {
  if (secretName.length > MAX_SUBDOMAIN_LENGTH || !DNS1123_SUBDOMAIN.test(secretName)) {
    throw new Error(`secret name ${JSON.stringify(secretName)} is not a valid Secret name`);
  }
  if (!DNS1123_LABEL.test(namespace)) throw new Error(`namespace ${JSON.stringify(namespace)} is not a valid namespace name`);
  if (!SAFE_OUTPUT_FILE.test(outputFile)) throw new Error(`output file ${JSON.stringify(outputFile)} is not a plain file name`);
  const key = CAPTURE_SECRET_DATA_KEY.replace(/\./g, '\\.');
  return `kubectl get secret ${secretName} -n ${namespace} -o jsonpath='{.data.${key}}' | base64 -d > ${outputFile}`;
}
