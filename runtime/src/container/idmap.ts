// Sandbox root is host uid 100000: every sandbox maps container ids 0..65535 onto host ids
// 100000..165535, and image files are stored shifted into that range so the overlay lower layer
// appears owned by the sandbox's own root.
export const HOST_ID_BASE = 100000;
export const ID_RANGE = 65536;
