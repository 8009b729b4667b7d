// The extension ↔ runtime contract (src/contract/local-runtime-contract.ts): every file and command
// line it writes reads back the same, a shell that sources the env file sees the same values, and
// a file that cannot be used says which file and what is wrong.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContractFileError,
  DEFAULT_DATA_DIR,
  endpointFromEnv,
  formatEnvFile,
  formatListen,
  isApiKey,
  launchOptions,
  newApiKey,
  parseEnvFile,
  parseLaunchFile,
  parseListen,
  parseRuntimeArguments,
  readEnvFile,
  readLaunchFile,
  RuntimeArgumentError,
  runtimeArguments,
  RuntimeCommandLine,
  runtimeFiles,
  writeEnvFile,
  writeLaunchFile,
} from '../../src/contract/local-runtime-contract';

function withDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'e2b-contract-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const endpoint = {
  apiUrl: 'http://127.0.0.1:49982',
  sandboxUrl: 'http://127.0.0.1:49982',
  volumeApiUrl: 'http://127.0.0.1:49982',
  apiKey: `e2b_${'ab'.repeat(20)}`,
};

describe('API keys', () => {
  it("makes keys in E2B's format, each one new", () => {
    const a = newApiKey();
    assert.match(a, /^e2b_[0-9a-f]{40}$/);
    assert.ok(isApiKey(a));
    assert.notEqual(newApiKey(), a);
  });

  it('accepts only e2b_ and 40 lowercase hex digits', () => {
    for (const bad of [
      '',
      'e2b_',
      `e2b_${'a'.repeat(39)}`,
      `e2b_${'a'.repeat(41)}`,
      `e2b_${'A'.repeat(40)}`,
      `E2B_${'a'.repeat(40)}`,
      `sk_e2b_${'a'.repeat(40)}`,
      ` e2b_${'a'.repeat(40)}`,
      `e2b_${'g'.repeat(40)}`,
    ]) {
      assert.equal(isApiKey(bad), false, JSON.stringify(bad));
    }
  });
});

describe('the env file', () => {
  it('writes the exports as before, and reads them back', () => {
    const trust = { caCertFile: '/var/lib/e2b-local/tls/ca.crt', caBundleFile: '/var/lib/e2b-local/tls/ca-bundle.crt' };
    const text = formatEnvFile(endpoint, trust);
    assert.equal(
      text,
      [
        'export E2B_API_URL=http://127.0.0.1:49982',
        'export E2B_SANDBOX_URL=http://127.0.0.1:49982',
        'export E2B_VOLUME_API_URL=http://127.0.0.1:49982',
        `export E2B_API_KEY=${endpoint.apiKey}`,
        "# https://<port>-<id>.<domain> (getHost, getMcpUrl) is signed by the runtime's local CA:",
        'export NODE_EXTRA_CA_CERTS=/var/lib/e2b-local/tls/ca.crt',
        'export SSL_CERT_FILE=/var/lib/e2b-local/tls/ca-bundle.crt',
        'export REQUESTS_CA_BUNDLE=/var/lib/e2b-local/tls/ca-bundle.crt',
        'export CURL_CA_BUNDLE=/var/lib/e2b-local/tls/ca-bundle.crt',
        '',
      ].join('\n'),
    );
    const vars = parseEnvFile(text);
    assert.deepEqual(endpointFromEnv(vars), endpoint);
    assert.equal(vars.SSL_CERT_FILE, trust.caBundleFile);
    assert.equal(formatEnvFile(endpoint), text.slice(0, text.indexOf('#')), 'no trust lines without a CA');
  });

  it('quotes values a shell would split or expand, and a shell sources them unchanged', () => {
    withDir((dir) => {
      const awkward = join(dir, `data dir with 'quotes', "double" $HOME \`x\` ;&|<>()*? [::1]`);
      mkdirSync(awkward);
      const odd = { ...endpoint, apiUrl: 'http://[::1]:49982', sandboxUrl: "http://[::1]:49982/it's" };
      const trust = { caCertFile: join(awkward, 'ca.crt'), caBundleFile: join(awkward, 'ca bundle.crt') };
      writeEnvFile(awkward, odd, trust);
      const file = runtimeFiles(awkward).env;
      assert.equal(statSync(file).mode & 0o777, 0o600, 'only the owner reads the API key');
      assert.deepEqual(readEnvFile(awkward), odd);
      const shell = execFileSync(
        'bash',
        ['-c', 'source "$0" && printf "%s\\n" "$E2B_API_URL" "$E2B_SANDBOX_URL" "$NODE_EXTRA_CA_CERTS" "$CURL_CA_BUNDLE"', file],
        { encoding: 'utf8', env: {} },
      );
      assert.equal(shell, [odd.apiUrl, odd.sandboxUrl, trust.caCertFile, trust.caBundleFile, ''].join('\n'));
      assert.equal(parseEnvFile(readFileSync(file, 'utf8')).CURL_CA_BUNDLE, trust.caBundleFile);
    });
  });

  it('reads env files written by hand or by older runtimes', () => {
    const vars = parseEnvFile(
      'export E2B_API_URL=http://127.0.0.1:49982\nexport E2B_API_KEY=\'e2b_ab\'\n# comment\nOTHER="x y"\r\n  export  SPACED=a\\ b\'c\'"d"   # trailing comment\n\n',
    );
    assert.deepEqual(vars, { E2B_API_URL: 'http://127.0.0.1:49982', E2B_API_KEY: 'e2b_ab', OTHER: 'x y', SPACED: 'a bcd' });
    // Runtimes older than volumes wrote neither E2B_VOLUME_API_URL nor (older still) E2B_SANDBOX_URL.
    assert.deepEqual(endpointFromEnv({ E2B_API_URL: 'http://h:1', E2B_API_KEY: 'k' }), {
      apiUrl: 'http://h:1',
      sandboxUrl: 'http://h:1',
      volumeApiUrl: 'http://h:1',
      apiKey: 'k',
    });
  });

  it('says which file and line cannot be read', () => {
    const cases: [string, RegExp][] = [
      ["export E2B_API_URL='http://h:1\n", /^\/d\/env: line 1: a quote \('\) is not closed$/],
      ['# ok\nexport E2B_API_URL="http://h:1\n', /line 2: a quote \("\) is not closed/],
      ['export E2B_API_URL=http://h:1 extra\n', /line 1: a value with spaces must be quoted/],
      ['export E2B_API_URL=$HOME\n', /line 1: "\$" must be quoted/],
      ['export E2B_API_URL="$HOME"\n', /line 1: expansions/],
      ['export E2B_API_URL=x\\', /line 1: a backslash ends the line/],
      ['E2B_API_URL http://h:1\n', /line 1: expected `export NAME=value`/],
      ['set -a\n', /line 1: expected `export NAME=value`/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseEnvFile(text, '/d/env'),
        (err: unknown) => err instanceof ContractFileError && message.test(err.message) && err.file === '/d/env',
        JSON.stringify(text),
      );
    }
  });

  it('says what an env file lacks', () => {
    assert.throws(() => endpointFromEnv({ E2B_API_URL: 'http://h:1' }, '/d/env'), {
      name: 'ContractFileError',
      message: '/d/env: no E2B_API_KEY',
    });
    assert.throws(() => endpointFromEnv({ E2B_API_KEY: 'k' }, '/d/env'), { message: '/d/env: no E2B_API_URL' });
    assert.throws(() => endpointFromEnv({ E2B_API_URL: '127.0.0.1:49982', E2B_API_KEY: 'k' }, '/d/env'), {
      message: '/d/env: E2B_API_URL is not an http(s) URL: 127.0.0.1:49982',
    });
    assert.throws(
      () => endpointFromEnv({ E2B_API_URL: 'http://h:1', E2B_VOLUME_API_URL: 'ftp://h', E2B_API_KEY: 'k' }),
      /E2B_VOLUME_API_URL is not an http\(s\) URL/,
    );
  });

  it('is undefined when missing, an error when unreadable', () => {
    withDir((dir) => {
      assert.equal(readEnvFile(dir), undefined);
      assert.equal(readEnvFile(join(dir, 'no-such-dir')), undefined);
      mkdirSync(runtimeFiles(dir).env);
      assert.throws(() => readEnvFile(dir), { name: 'ContractFileError', message: `${runtimeFiles(dir).env}: cannot be read (EISDIR)` });
    });
  });

  it('replaces the file whole and leaves nothing beside it', () => {
    withDir((dir) => {
      writeFileSync(runtimeFiles(dir).env, 'garbage that is not an env file\n', { mode: 0o644 });
      writeEnvFile(dir, endpoint);
      assert.deepEqual(readEnvFile(dir), endpoint);
      assert.equal(statSync(runtimeFiles(dir).env).mode & 0o777, 0o600);
      assert.deepEqual(execFileSync('ls', ['-A', dir], { encoding: 'utf8' }).trim().split('\n'), ['env']);
    });
  });
});

describe('runtime.json', () => {
  it('reads back what it writes, and starts the next runtime the same way', () => {
    withDir((dir) => {
      assert.equal(readLaunchFile(dir), undefined, 'no runtime has written one');
      const record = { listen: '[::1]:8000', imagesDir: '/srv/images', domain: 'e2b.example.test' };
      writeLaunchFile(dir, record);
      assert.deepEqual(readLaunchFile(dir), record);
      assert.deepEqual(launchOptions(record), {
        listen: { host: '::1', port: 8000 },
        imagesDir: '/srv/images',
        domain: 'e2b.example.test',
      });
      assert.deepEqual(runtimeArguments({ command: 'up', ...launchOptions(record) }), [
        'up',
        '--listen',
        '[::1]:8000',
        '--images-dir',
        '/srv/images',
        '--domain',
        'e2b.example.test',
      ]);
      assert.deepEqual(launchOptions({}), {});
    });
  });

  it('reads older records and leaves out keys it does not know', () => {
    assert.deepEqual(parseLaunchFile('{"listen":"127.0.0.1:49982","imagesDir":"/i","domain":null,"future":1}'), {
      listen: '127.0.0.1:49982',
      imagesDir: '/i',
    });
    assert.deepEqual(parseLaunchFile('{}'), {});
  });

  it('says what is wrong with a malformed record', () => {
    const cases: [string, RegExp][] = [
      ['{"listen": "127.0.0.1:', /^\/d\/runtime\.json: not JSON \(/],
      ['', /not JSON/],
      ['[]', /: not a JSON object$/],
      ['"127.0.0.1:1"', /: not a JSON object$/],
      ['null', /: not a JSON object$/],
      ['{"listen": 49982}', /: "listen" must be a non-empty string, not 49982$/],
      ['{"imagesDir": ""}', /: "imagesDir" must be a non-empty string, not ""$/],
      ['{"domain": ["a"]}', /: "domain" must be a non-empty string/],
      ['{"listen": "::1:8000"}', /: "listen": --listen: cannot parse "::1:8000"$/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => parseLaunchFile(text, '/d/runtime.json'),
        (err: unknown) => err instanceof ContractFileError && message.test(err.message),
        JSON.stringify(text),
      );
    }
  });
});

describe('the runtime command line', () => {
  it('parses what it builds, every option', () => {
    const line: RuntimeCommandLine = {
      command: 'up',
      listen: { host: '0.0.0.0', port: 8080 },
      dataDir: '/data dir',
      imagesDir: '/images',
      domain: 'e2b.test:8080',
      images: ['base', 'code-interpreter-v1'],
      warmPool: ['base=1', 'code-interpreter-v1=0'],
      noNewPrivileges: true,
      offlineFallback: true,
      diskSizeMB: 2048,
      volumeSizeMB: 64,
      uplink: 'netns:e2b-test',
      agentIdleExitSeconds: 1.5,
    };
    assert.deepEqual(parseRuntimeArguments(runtimeArguments(line)), line);
    const build: RuntimeCommandLine = { command: 'build', imagesDir: '/i', images: ['base'] };
    assert.deepEqual(runtimeArguments(build), ['build', '--images-dir', '/i', '--image', 'base']);
    assert.deepEqual(parseRuntimeArguments(runtimeArguments(build)), build);
    assert.deepEqual(parseRuntimeArguments(['up']), { command: 'up' }, 'what is left out takes the defaults');
  });

  it('reads and writes listen addresses, IPv6 in brackets', () => {
    assert.deepEqual(parseListen('127.0.0.1:49982'), { host: '127.0.0.1', port: 49982 });
    assert.deepEqual(parseListen('0.0.0.0'), { host: '0.0.0.0', port: 49982 });
    assert.deepEqual(parseListen(':8000'), { host: '127.0.0.1', port: 8000 });
    assert.deepEqual(parseListen('[::1]:8000'), { host: '::1', port: 8000 });
    assert.equal(formatListen({ host: '::1', port: 8000 }), '[::1]:8000');
    for (const address of ['127.0.0.1:1', '[::]:49982', 'localhost:80']) assert.equal(formatListen(parseListen(address)), address);
    assert.throws(() => parseListen('::1:8000'), { message: '--listen: cannot parse "::1:8000"' });
    assert.throws(() => parseListen('host:port'), RuntimeArgumentError);
  });

  it('says what is wrong with a command line', () => {
    const fails = (argv: string[], message: string, showUsage = false) =>
      assert.throws(
        () => parseRuntimeArguments(argv),
        (err: unknown) => err instanceof RuntimeArgumentError && err.message === message && err.showUsage === showUsage,
        argv.join(' '),
      );
    fails(['up', '--bogus'], 'unknown option --bogus', true);
    fails(['down'], 'unknown command down', true);
    fails([], 'unknown command (none)', true);
    fails(['up', '--data-dir'], '--data-dir needs a value');
    fails(['up', '--image', 'base', '--listen'], '--listen needs a value');
    fails(['up', '--disk-size-mb', '15'], '--disk-size-mb takes a whole number of MB, at least 16');
    fails(['up', '--volume-size-mb', '1.5'], '--volume-size-mb takes a whole number of MB, at least 16');
    fails(['up', '--agent-idle-exit', '-1'], '--agent-idle-exit takes a number of seconds, 0 or more');
    fails(['up', '--listen', 'a:b:c'], '--listen: cannot parse "a:b:c"');
  });
});

describe('the data dir', () => {
  it('names the files of the contract', () => {
    assert.equal(DEFAULT_DATA_DIR, '/var/lib/e2b-local');
    assert.deepEqual(runtimeFiles('/d'), { env: '/d/env', launch: '/d/runtime.json', pid: '/d/runtime.pid', log: '/d/runtime.log' });
  });
});
