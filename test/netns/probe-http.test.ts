// The probe program's HTTP(S) probe against real servers in a namespace: status codes, expected
// codes, Host header and path passed through, TLS verification failures.
import { expect } from 'chai';
import {
  makeSelfSignedCert,
  NetnsLab,
  runProbe,
  useRoutedLab,
  type RoutedTopology,
} from '../support/netns.ts';
import type { HttpResult } from '../../operator/probe/result.ts';

const TIMEOUT_S = 3;
const HTTP_PORT = 8080;
const HTTPS_PORT = 8443;

function httpOf(section: unknown): HttpResult {
  expect(section, 'http section').to.be.an('object');
  return section as HttpResult;
}

describe('probe program: HTTP(S) (netns)', function () {
  let lab: NetnsLab;
  let net: RoutedTopology;

  useRoutedLab(async (newLab, newNet) => {
    lab = newLab;
    net = newNet;
    net.client.setResolvConf(`nameserver ${net.serverIp}\n`);
  });

  const http = (extra: Record<string, string>) =>
    runProbe(net.client, {
      NETCHECK_PROTOCOL: 'HTTP',
      NETCHECK_TARGET_IP: net.serverIp,
      NETCHECK_PORT: String(HTTP_PORT),
      NETCHECK_TIMEOUT: String(TIMEOUT_S),
      ...extra,
    });

  it('HTTP 503: connect ok, status unexpectedStatus with code 503 and timings', async () => {
    await net.server.startHttpServer(net.serverIp, HTTP_PORT, 503);
    const { run, result } = await http({});
    expect(run.exitCode).to.equal(0);
    expect(result.connect).to.deep.include({ status: 'ok' });
    const res = httpOf(result.http);
    expect(res).to.deep.include({ status: 'unexpectedStatus', code: 503, curlExit: 0, method: 'GET' });
    expect(res.ms).to.not.equal(null);
    expect(res.ms!.total).to.be.at.least(res.ms!.connect);
    expect(res.err).to.equal(undefined);
  });

  it('an expected status list makes 503 a success', async () => {
    await net.server.startHttpServer(net.serverIp, HTTP_PORT, 503);
    const { result } = await http({ NETCHECK_HTTP_EXPECTED: '200,503' });
    expect(httpOf(result.http)).to.deep.include({ status: 'ok', code: 503 });
  });

  it('sends the Host header, method and path given, byte for byte', async () => {
    const server = await net.server.startHttpServer(net.serverIp, HTTP_PORT, 204);
    const path = "/healthz?probe=1&x=$(id);'q'";
    const { result } = await http({ NETCHECK_HTTP_PATH: path, NETCHECK_HTTP_HOST: 'web.nct.test', NETCHECK_HTTP_METHOD: 'DELETE' });
    const res = httpOf(result.http);
    expect(res).to.deep.include({ status: 'ok', code: 204, method: 'DELETE' });
    expect(res.url).to.equal(`http://web.nct.test:${HTTP_PORT}${path}`);
    expect(server.output).to.include(`request DELETE ${JSON.stringify(path)} host=${JSON.stringify(`web.nct.test:${HTTP_PORT}`)}`);
  });

  it('connection refused is reported as refused, with curl exit 7', async () => {
    const { result } = await http({});
    expect(httpOf(result.http)).to.deep.include({ status: 'refused', code: null, curlExit: 7 });
    expect(result.connect).to.deep.include({ status: 'refused' });
  });

  it('HTTPS with a self-signed certificate: tlsError (curl 60), the handshake reached the server', async () => {
    const cert = await makeSelfSignedCert(lab.tempDir(), 'web.nct.test');
    const server = await net.server.startHttpServer(net.serverIp, HTTPS_PORT, 200, cert);
    const { result } = await runProbe(net.client, {
      NETCHECK_PROTOCOL: 'HTTPS',
      NETCHECK_TARGET_IP: net.serverIp,
      NETCHECK_PORT: String(HTTPS_PORT),
      NETCHECK_HTTP_HOST: 'web.nct.test',
      NETCHECK_TIMEOUT: String(TIMEOUT_S),
    });
    const res = httpOf(result.http);
    expect(res).to.deep.include({ status: 'tlsError', curlExit: 60, code: null });
    expect(res.err).to.match(/certificate/i);
    expect(result.connect).to.deep.include({ status: 'ok' });
    expect(server.output).to.not.match(/^request /m);
  });

  it('HTTPS with verification off (NETCHECK_TLS_VERIFY=0): ok, with the TLS handshake timed', async () => {
    const cert = await makeSelfSignedCert(lab.tempDir(), 'web.nct.test');
    await net.server.startHttpServer(net.serverIp, HTTPS_PORT, 200, cert);
    const { result } = await runProbe(net.client, {
      NETCHECK_PROTOCOL: 'HTTPS',
      NETCHECK_TARGET_IP: net.serverIp,
      NETCHECK_PORT: String(HTTPS_PORT),
      NETCHECK_TLS_VERIFY: '0',
      NETCHECK_TIMEOUT: String(TIMEOUT_S),
    });
    const res = httpOf(result.http);
    expect(res).to.deep.include({ status: 'ok', code: 200, curlExit: 0 });
    expect(res.url).to.equal(`https://${net.serverIp}:${HTTPS_PORT}/`);
    expect(res.ms!.tls).to.be.at.least(res.ms!.connect);
  });

  it('HTTP to a server whose SYNs are dropped: timeout', async () => {
    await net.server.startHttpServer(net.serverIp, HTTP_PORT, 200);
    await net.server.iptables(['-A', 'INPUT', '-p', 'tcp', '--dport', String(HTTP_PORT), '-j', 'DROP']);
    const { result } = await http({});
    expect(httpOf(result.http)).to.deep.include({ status: 'timeout', curlExit: 28 });
  });
});
