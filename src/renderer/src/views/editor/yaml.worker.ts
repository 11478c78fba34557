// monaco-yaml's language service, run as Monaco's worker for YAML models (TOOLCHAIN.md).
import 'monaco-yaml/yaml.worker.js';
