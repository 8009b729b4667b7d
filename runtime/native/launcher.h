/* The launcher mode of e2b-ptyexec (launcher.c): `e2b-ptyexec --launcher`. */
#ifndef E2B_LAUNCHER_H
#define E2B_LAUNCHER_H

/* Serves start requests on the Node IPC channel in NODE_CHANNEL_FD until the agent goes away. */
int launcher_main(void);

#endif
