// The envd version the agent speaks, as sandboxes and templates report it to the SDKs: it unlocks
// the SDK features the agent implements (protocol §2.5). Raise it with the agent's features.
export const ENVD_VERSION = '0.6.4';
