#define _GNU_SOURCE
#include <sys/mman.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>
static void *th(void *a){ char *p=a; p[0]=1; return 0; }
int main(void){
  char *p = mmap(0, 1<<20, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  memset(p, 1, 1<<20);
  char *q = mremap(p, 1<<20, 4<<20, MREMAP_MAYMOVE);
  q[3<<20] = 2;
  madvise(q, 1<<20, MADV_DONTNEED);
  q[0]=3;
  char *s = mmap(0, 8192, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0);
  s[0]=1;
  mprotect(q+4096, 4096, PROT_READ);
  pthread_t t; pthread_create(&t,0,th,q+8192); pthread_join(t,0);
  if (fork()==0){ s[1]=2; q[0]=4; _exit(0);} wait(0);
  char big[100000]; memset(big,1,sizeof big);
  munmap(q, 4<<20);
  return big[5]-1;
}
