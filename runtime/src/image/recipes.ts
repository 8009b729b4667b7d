// The sandbox images the runtime builds from Debian packages. A change to a recipe changes its
// fingerprint, which makes the cached image stale and rebuilt on next start.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runtimePackageDir } from '../paths';

/** Processes a sandbox of this image runs at start; it is handed out once `readyCmd` passes. */
export interface SandboxStart {
  startCmd?: string;
  readyCmd?: string;
  /** User the start command runs as (default: the sandbox's default user). */
  user?: string;
}

export interface ImageRecipe {
  name: string;
  suite: string;
  packages: string[];
  /** Host files copied into the root before setup: `source` may be computed when the image is built. */
  files?: {
    source: string | (() => string);
    target: string;
    /** Left out (with a log line) when the source is missing. */ optional?: boolean;
  }[];
  /** Files of the packages that are not installed (dpkg path-exclude globs). */
  excludePaths?: string[];
  /** Shell commands run inside the new root (chroot) after the packages are installed. */
  setup: string[];
  start?: SandboxStart;
}

const SANDBOX_USER_SETUP = [
  'useradd --create-home --uid 1000 --user-group --shell /bin/bash user',
  "echo 'user ALL=(ALL:ALL) NOPASSWD: ALL' > /etc/sudoers.d/user && chmod 0440 /etc/sudoers.d/user",
  'echo e2b.local > /etc/hostname',
  "printf '127.0.0.1 localhost e2b.local\\n::1 localhost ip6-localhost ip6-loopback\\n' > /etc/hosts",
  'mkdir -p /opt/e2b /run/e2b',
  // The SDK runs every command as `bash -l -c`; Debian's /etc/profile forks `id -u` each time (about
  // half of a login shell's start-up). bash knows its EUID already; sh (dash) still asks id.
  `sed -i 's/"$(id -u)"/"\${EUID:-$(id -u)}"/' /etc/profile && grep -q 'EUID:-' /etc/profile`,
];

// What code written for E2B's base template (python:3.11 + Node 20 + build-essential) relies on:
// `python`/`pip` as well as python3, `ss` (the SDK's waitForPort runs it), git, curl, sudo and a
// C toolchain. Node and npm are not Debian's (Node 18, with npm split into 335 packages that made the
// image 230 MB larger): see NODE_FILES.
const BASE_PACKAGES = [
  'bash',
  'coreutils',
  'python3',
  'curl',
  'git',
  'sudo',
  'procps',
  'ca-certificates',
  'passwd',
  'less',
  'nano',
  'python-is-python3',
  'python3-pip',
  'python3-venv',
  'iproute2',
  'build-essential',
  'wget',
  'unzip',
  'xz-utils',
  'jq',
  'openssh-client',
];

/**
 * The npm that comes with the runtime's own Node (nodesource and nodejs.org installs keep it in
 * <prefix>/lib/node_modules/npm; Debian's npm package in /usr/share/nodejs/npm).
 */
function hostNpm(): string {
  // The system's first, so that runtimes started by different Node binaries (code-server's own,
  // the shell's) copy the same npm and agree on the image's fingerprint.
  const candidates = [
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'),
    '/usr/share/nodejs/npm',
  ];
  for (const dir of candidates) {
    try {
      lstatSync(join(dir, 'bin', 'npm-cli.js'));
      return dir;
    } catch {
      /* next */
    }
  }
  throw new Error(`npm is missing next to this Node (${process.execPath}); looked in ${candidates.join(', ')}`);
}
Object.defineProperty(hostNpm, 'name', { value: 'host npm' });

/**
 * Users' `node` is the runtime's Node, which every sandbox has bind-mounted read-only at
 * /opt/e2b/node for its agent (Node 20 here, as E2B's base has), and npm/npx are the npm that
 * came with it, copied in. The image then holds a node and an npm that belong together, for the
 * price of npm's 10 MB.
 */
const NODE_FILES: NonNullable<ImageRecipe['files']> = [{ source: hostNpm, target: '/usr/local/lib/node_modules/npm', optional: true }];
const NODE_SETUP = [
  'ln -sf /opt/e2b/node /usr/local/bin/node && ln -sf node /usr/local/bin/nodejs',
  // Without an npm on the host the image still builds, with node only.
  `[ ! -f /usr/local/lib/node_modules/npm/bin/npm-cli.js ] || { printf '#!/bin/sh\\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\\n' > /usr/local/bin/npm && printf '#!/bin/sh\\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npx-cli.js "$@"\\n' > /usr/local/bin/npx && chmod 0755 /usr/local/bin/npm /usr/local/bin/npx && chmod -R a+rX /usr/local/lib/node_modules; }`,
];

const BASE_SETUP = [
  ...NODE_SETUP,
  // Debian marks its Python as externally managed (PEP 668); E2B's `pip install x` installs
  // (as root system-wide, as user into ~/.local), so pip is told to do that here too.
  "printf '[global]\\nbreak-system-packages = true\\n' > /etc/pip.conf",
];

/** Where the code interpreter's Python helpers (IPython extension, bash kernel) live in the image. */
const CODE_INTERPRETER_PYTHON = '/opt/e2b-code-interpreter/python';

/** Where the Java kernel's JShell side (compiled when the image is built) lives in the image. */
const CODE_INTERPRETER_JAVA = '/opt/e2b-code-interpreter/java';

/** The Java kernel's source in this repository (runtime/images/code-interpreter/java). */
function codeInterpreterJava(): string {
  return join(runtimePackageDir(), 'images', 'code-interpreter', 'java');
}

/**
 * The Python packages of E2B's code-interpreter template (its requirements.txt) that Debian has.
 * Not here: orjson, bokeh, librosa, kaleido, spacy, textblob (not in Debian 12), opencv-python
 * (python3-opencv pulls GDAL, VTK and Qt: several hundred MB), gensim (python3-gensim pulls the
 * Azure and AWS SDKs through smart-open) and jupyter-server (no Jupyter server runs here: the
 * interpreter talks to the kernels itself).
 */
const E2B_PYTHON_PACKAGES = [
  'python3-pil',
  'python3-aiohttp',
  'python3-bs4',
  'python3-imageio',
  'python3-joblib',
  'python3-nltk',
  'python3-numba',
  'python3-openpyxl',
  'python3-plotly',
  'python3-pytest',
  'python3-docx',
  'python3-tz',
  'python3-requests',
  'python3-skimage',
  'python3-sklearn',
  'python3-scipy',
  'python3-seaborn',
  'python3-soundfile',
  'python3-tornado',
  'python3-urllib3',
  'python3-xarray',
  'python3-xlrd',
  'python3-sympy',
];

/** The Python helpers in this repository (runtime/images/code-interpreter/python). */
function codeInterpreterPython(): string {
  return join(runtimePackageDir(), 'images', 'code-interpreter', 'python');
}

/** The Deno binary of the `deno` npm package (its optional dependency @deno/linux-x64-glibc). */
function denoBinary(): string {
  const tried: string[] = [];
  for (const pkg of ['@deno/linux-x64-glibc/package.json', 'deno/package.json']) {
    try {
      const binary = join(dirname(require.resolve(pkg, { paths: [runtimePackageDir()] })), 'deno');
      lstatSync(binary);
      return binary;
    } catch (err) {
      tried.push(`${pkg}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`the deno binary is missing (npm install -w runtime): ${tried.join('; ')}`);
}

/** A file of dist/ (node build.mjs), e.g. the MCP gateway bundled into mcp-gateway images. */
function distFile(name: string): () => string {
  const source = () => {
    const path = join(runtimePackageDir(), 'dist', name);
    lstatSync(path);
    return path;
  };
  Object.defineProperty(source, 'name', { value: `dist/${name}` });
  return source;
}

export const IMAGE_RECIPES: Record<string, ImageRecipe> = {
  base: {
    name: 'base',
    suite: 'bookworm',
    packages: BASE_PACKAGES,
    files: NODE_FILES,
    setup: [...SANDBOX_USER_SETUP, ...BASE_SETUP],
  },
  // E2B's code interpreter: Jupyter kernels for Python (ipykernel), JavaScript/TypeScript (Deno),
  // Bash (ours), R (IRkernel) and Java (ours, on the JDK's JShell), driven by dist/interpreter.js
  // on port 49999. As upstream, kernels run as root with /home/user as their working directory.
  'code-interpreter-v1': {
    name: 'code-interpreter-v1',
    suite: 'bookworm',
    packages: [
      ...BASE_PACKAGES,
      'python3-ipykernel',
      'python3-jupyter-client',
      'python3-numpy',
      'python3-pandas',
      'python3-matplotlib',
      'python3-pexpect',
      // matplotlib → fonttools wants scipy *or* munkres; scipy drags in a C++ toolchain (pythran).
      'python3-munkres',
      // R and its Jupyter kernel: about 60 MB on top of the Python stack.
      'r-cran-irkernel',
      // Java: the JDK (javac and jdk.jshell, which the Java kernel is built on).
      'openjdk-17-jdk-headless',
      ...E2B_PYTHON_PACKAGES,
    ],
    // scipy depends on pythran, which brings Boost's headers and OpenBLAS's static library
    // (190 MB) for compiling Python extensions, which the kernels never do.
    excludePaths: ['/usr/include/boost/*', '/usr/include/xsimd/*', '/usr/lib/x86_64-linux-gnu/openblas-pthread/*.a'],
    files: [
      ...NODE_FILES,
      { source: codeInterpreterPython, target: CODE_INTERPRETER_PYTHON },
      { source: codeInterpreterJava, target: CODE_INTERPRETER_JAVA },
      { source: denoBinary, target: '/usr/local/bin/deno' },
    ],
    setup: [
      ...SANDBOX_USER_SETUP,
      ...BASE_SETUP,
      `javac -d ${CODE_INTERPRETER_JAVA} ${CODE_INTERPRETER_JAVA}/E2BJShellKernel.java && chmod -R a+rX ${CODE_INTERPRETER_JAVA}`,
      // Our helpers on every python3's path, compiled (the tree is read-only for the kernels' user).
      `site=$(python3 -c 'import site; print(site.getsitepackages()[0])') && mkdir -p "$site" && echo ${CODE_INTERPRETER_PYTHON} > "$site/e2b-code-interpreter.pth"`,
      `python3 -m compileall -q ${CODE_INTERPRETER_PYTHON}`,
      'chmod 0755 /usr/local/bin/deno',
      // Caches the first cell would otherwise build: matplotlib's font list, IPython's profile, Deno's dir.
      'export HOME=/root && MPLBACKEND=Agg python3 -c "import matplotlib.pyplot" && python3 -m IPython profile create >/dev/null 2>&1; deno eval "0" >/dev/null',
      'install -d -m 0755 /var/log/e2b',
    ],
    start: {
      startCmd: 'exec /opt/e2b/node /opt/e2b/interpreter.js >>/var/log/e2b/code-interpreter.log 2>&1',
      // The interpreter listens once the default Python context answers.
      readyCmd:
        'end=$((SECONDS + 8)); while [ $SECONDS -lt $end ]; do curl -sf -o /dev/null http://127.0.0.1:49999/health && exit 0; sleep 0.02; done; exit 1',
      user: 'root',
    },
  },
  // E2B's MCP gateway template (`Sandbox.create({mcp})`): the base image plus `mcp-gateway`
  // (dist/mcp-gateway.js run by the host's Node at /opt/e2b/node) and the MCP servers it offers
  // (npm packages bundled to dist/mcp-servers/*.mjs).
  'mcp-gateway': {
    name: 'mcp-gateway',
    suite: 'bookworm',
    packages: BASE_PACKAGES,
    files: [
      ...NODE_FILES,
      { source: distFile('mcp-gateway.js'), target: '/opt/mcp-gateway/mcp-gateway.js' },
      { source: distFile('mcp-servers'), target: '/opt/mcp-gateway/mcp-servers' },
    ],
    setup: [
      ...SANDBOX_USER_SETUP,
      ...BASE_SETUP,
      `printf '#!/bin/sh\\nexec /opt/e2b/node /opt/mcp-gateway/mcp-gateway.js "$@"\\n' > /usr/local/bin/mcp-gateway && chmod 0755 /usr/local/bin/mcp-gateway`,
      'chmod -R a+rX /opt/mcp-gateway && install -d -m 0755 /var/lib/mcp-gateway',
    ],
  },
};

export function recipeFingerprint(recipe: ImageRecipe): string {
  const files = recipe.files?.map((f) => ({
    target: f.target,
    source: typeof f.source === 'string' ? f.source : f.source.name,
    content: contentDigest(f.source),
  }));
  return createHash('sha256')
    .update(JSON.stringify({ ...recipe, files }))
    .digest('hex')
    .slice(0, 16);
}

const HASHED_FILE_LIMIT = 4 * 1024 * 1024;

/**
 * What a copied file or tree holds (relative paths, sizes, and the content of small files), so
 * that editing a file the image copies in makes the image stale.
 */
function contentDigest(source: string | (() => string)): string {
  const hash = createHash('sha256');
  let root: string;
  try {
    root = typeof source === 'string' ? source : source();
  } catch (err) {
    return `unavailable: ${(err as Error).message}`;
  }
  const walk = (path: string, rel: string) => {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      hash.update(`missing ${rel}\n`);
      return;
    }
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) {
        if (name === '__pycache__') continue;
        walk(join(path, name), `${rel}/${name}`);
      }
    } else if (st.isFile()) {
      hash.update(`file ${rel} ${st.size} ${st.mode & 0o111 ? 'x' : '-'}\n`);
      if (st.size <= HASHED_FILE_LIMIT) hash.update(readFileSync(path));
    } else {
      hash.update(`other ${rel}\n`);
    }
  };
  walk(root, '.');
  return hash.digest('hex').slice(0, 16);
}
