/*
 * Who is acting: recorded with every migration (and, later, every ledger
 * entry). OTAP_ACTOR when set (CI sets it to the pipeline's identity),
 * else the git user ("Name <email>") from git's configuration, else the
 * operating-system user.
 */
#ifndef OTAP_ACTOR_H
#define OTAP_ACTOR_H

/* A new string; never NULL. */
char *actor_name(void);

#endif
