/*
 * The demo image's entrypoint: a static binary that needs nothing from the image but shows
 * what the image gives it — who it runs as, and whether the TLS trust store is in place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *roots_path(void) {
    const char *configured = getenv("SSL_CERT_FILE");
    return configured && *configured ? configured : "/etc/ssl/certs/ca-certificates.crt";
}

int main(void) {
    struct stat info;
    const char *roots = roots_path();
    int have_roots = stat(roots, &info) == 0 && S_ISREG(info.st_mode) && info.st_size > 0;

    printf("Hello from a Distill image!\n");
    printf("running as uid %u, gid %u\n", (unsigned)getuid(), (unsigned)getgid());
    if (have_roots)
        printf("TLS roots: present (%s, %lld bytes)\n", roots, (long long)info.st_size);
    else
        printf("TLS roots: missing (%s)\n", roots);
    return 0;
}
