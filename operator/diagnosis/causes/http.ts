// The HTTP exchange over a working connection: the application answered with an unexpected status,
// TLS failed, the request failed or hung, or an Ingress has no rule for the host and path.
import { hostPort, listText, upperFirst } from '../../util/text.ts';
import type { Analysis } from '../analysis.ts';
import { Layer } from '../layers/index.ts';
import { Cause } from '../reasons.ts';
import { httpCommand } from '../reproduce.ts';
import { describeHttp } from '../text.ts';
import { cause, rule, type RootCause } from './shared.ts';
import type { HttpFailure } from './symptoms.ts';

/** "10.96.12.7:8080 accepted the connection from pod shop/web, but no HTTP response (timed out)". */
export function httpText(failed: HttpFailure): string {
  const http = failed.http!;
  return failed.connect
    ? `${hostPort(failed.connect.ip, failed.connect.port)} accepted the connection from ${failed.vantage.label}, but ${describeHttp(http)}`
    : upperFirst(describeHttp(http));
}

/** An exchange that hung or broke off: what a path MTU problem looks like to HTTP. */
export function httpHung(failed: HttpFailure | undefined): boolean {
  const status = failed?.http?.status;
  return status === 'timeout' || status === 'error' || status === 'protocolError';
}

function httpLayer(a: Analysis) {
  return a.kind === 'service' && a.service.applicable ? Layer.Service : a.kind === 'host' ? Layer.NorthSouth : Layer.PodIP;
}

function httpCause(a: Analysis, failed: HttpFailure, reason: string, outcome: string, fix: string): RootCause {
  return cause(httpLayer(a), reason, 'failure', `${httpText(failed)}${outcome}`, fix, httpCommand(a.repro, failed));
}

export const ingressMisrouted = rule('ingressMisrouted', [Cause.IngressMisrouted], ({ a, s }) => {
  const failed = s.http;
  if (!failed || a.kind !== 'host' || !a.northSouth.external?.viaIngress || failed.http?.code !== 404) return undefined;
  const outcome = `: the ingress controller has no rule for this host and path (Ingress ${listText(a.northSouth.ingresses)}).`;
  const fix = 'Fix: make an Ingress rule match the requested host and path (and the ingressClassName of the running controller).';
  return cause(Layer.NorthSouth, Cause.IngressMisrouted, 'failure', `${httpText(failed)}${outcome}`, fix, httpCommand(a.repro, failed));
});

export const unexpectedHTTPStatus = rule('unexpectedHTTPStatus', [Cause.UnexpectedHTTPStatus], ({ a, s }) => {
  const failed = s.http;
  const http = failed?.http;
  if (!failed || http?.status !== 'unexpectedStatus') return undefined;
  const fix = `Fix: check the application's handling of ${http.url ?? 'the request'}, or set spec.http.expectedStatus if ${http.code} is correct.`;
  return httpCause(a, failed, Cause.UnexpectedHTTPStatus, ': the network path works, the application answered with an unexpected status.', fix);
});

export const tlsError = rule('tlsError', [Cause.TLSError], ({ a, s }) => {
  const failed = s.http;
  if (!failed || failed.http?.status !== 'tlsError') return undefined;
  const fix =
    'Fix: check the server certificate (its names must cover the host the client uses, its chain must be trusted) or set spec.http.host to the ' +
    'name the certificate covers.';
  return httpCause(a, failed, Cause.TLSError, ': the TLS handshake failed.', fix);
});

export const httpRequestFailed = rule('httpRequestFailed', [Cause.HTTPRequestFailed], ({ a, s }) => {
  if (!s.http) return undefined;
  return httpCause(a, s.http, Cause.HTTPRequestFailed, '.', requestFailedFix(a, s.http));
});

/** A request that failed over a working connection: hung, or not HTTP at all. */
function requestFailedFix(a: Analysis, failed: HttpFailure): string {
  const status = failed.http?.status;
  const mtuMeasured = a.mtu.results.some((entry) => entry.mtu.status === 'ok');
  if (status === 'timeout') {
    const mtu = mtuMeasured ? '' : ', and the path MTU (it was not measured)';
    return (
      `Fix: the connection works but no response came within ${a.repro.timeoutSeconds} s: check the application (its logs, slow or blocked ` +
      `handlers)${mtu}.`
    );
  }
  if (status === 'protocolError')
    return 'Fix: the server on this port does not answer HTTP as the check speaks it (HTTPS, or another protocol?): check the port and spec.protocol.';
  return 'Fix: the TCP connection works; check the application (logs) and, for hanging responses, the path MTU.';
}
