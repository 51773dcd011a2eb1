// Micro-benchmark of the engine's SGEMM kernel sets (Sources/CKernels) against OpenBLAS on the engine's
// GEMM shapes, in one process, thread CPU time (so other processes' load inflates it less), best of 5.
// Run with scripts/bench-sgemm-kernels.sh (builds it with clang and runs it in both OPENBLAS_CORETYPE
// conditions). Also checks that every set agrees with OpenBLAS (max |difference|).
#include "brx_kernels.h"
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
static double now(){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(void){
  openblas_set_num_threads(1);
  int shapes[][3]={{50,64,320},{75,32,160},{40,128,384},{256,32,128},{256,64,256},{512,16,64},{30,256,512},{1024,1024,1024},{64,512,4608}};
  for(int s=0;s<9;s++){int m=shapes[s][0],n=shapes[s][1],k=shapes[s][2];
    float*a=malloc(4L*m*k),*b=malloc(4L*k*n),*c=malloc(4L*m*n),*c2=malloc(4L*m*n);
    for(long i=0;i<(long)m*k;i++)a[i]=rand()/(float)RAND_MAX-0.5f;
    for(long i=0;i<(long)k*n;i++)b[i]=rand()/(float)RAND_MAX-0.5f;
    double flop=2.0*m*n*k; int reps=(int)(2e9/flop)+1;
    double best[4]={1e9,1e9,1e9,1e9};
    for(int r=0;r<5;r++){
      double t=now(); for(int i=0;i<reps;i++) cblas_sgemm(CblasRowMajor,CblasNoTrans,CblasNoTrans,m,n,k,1,a,k,b,n,0,c2,n); t=now()-t; if(t<best[0])best[0]=t;
      for(int isa=2;isa>=1;isa--){brx_isa_select(isa); t=now(); for(int i=0;i<reps;i++) brx_sgemm(m,n,k,a,k,b,n,c,n,0); t=now()-t; if(t<best[isa])best[isa]=t;}
    }
    double err=0; for(long i=0;i<(long)m*n;i++){double e=fabs(c[i]-c2[i]); if(e>err)err=e;}
    printf("%5dx%4dx%4d (M x N x K) openblas %6.1f  avx512 %6.1f  avx2 %6.1f GFLOP/s (cpu)  maxdiff %.2g\n",m,n,k,flop*reps/best[0]/1e9,flop*reps/best[2]/1e9,flop*reps/best[1]/1e9,err);
  }
}
