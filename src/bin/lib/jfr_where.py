#!/usr/bin/env python3
"""Where the device-listener threads spend their time, from a JFR recording of the service (BENCHMARKS.md, issue 18).

    BENCH_ONLY=device BENCH_DRIVER_OPTS="-Dbench.jfr=/tmp/s.jfr" bash src/bin/bench
    jfr print --json --stack-depth 64 --events jdk.ExecutionSample /tmp/s.jfr > exec.json
    jfr print --json --stack-depth 64 --events jdk.NativeMethodSample /tmp/s.jfr > native.json
    python3 src/bin/lib/jfr_where.py exec.json native.json

Execution samples are threads running Java code, native samples threads in native code (socket reads and writes to
PostgreSQL, PKCS#11 calls): together they show where a request's wall time goes, not only its CPU. Each sample is
counted once by activity (its innermost frames) and once by the first feature step on its stack (CALLERS order).
"""
import json,sys,collections
def load(f):
    return json.load(open(f))['recording']['events']
ev=load(sys.argv[1])+load(sys.argv[2])
act=collections.Counter(); caller=collections.Counter()
CALLERS=[('AuditLog.append','audit append'),('AuditHeadSigner','audit head signature'),('KeyVersionRepository.version','KEK version lookup'),('KeyVersionRepository.openable','KEK version lookup'),
 ('activeTenantSuites','tenant + policy at SNI'),('PolicyService','policy read'),('MafKms','MAF session holder lookup'),('MafClients.clientIdOf','MAF session holder lookup'),
 ('EnrolmentGroupService','group/device lookup'),('CsrCheck','CSR check'),('TenantCa','CA issue'),('CertificateStore','CA issue'),('EnrolmentStore','enrolment row'),('LockStore','enrolment row'),('EnrolmentService','enrolment row'),
 ('KeyRegistrationProcedures','key registration/retrieval'),('RegistrationStore','key registration/retrieval'),('EsDataService','ESData'),('KeySealer','KEK open/seal'),('HsmCrypto','HSM call'),
 ('DeviceConnection','TLS + HTTP codec'),('DeviceTlsServer','TLS + HTTP codec')]
n=0
for e in ev:
    t=(e['values'].get('sampledThread') or {}).get('javaName') or ''
    if not t.startswith('device-tls'): continue
    st=e['values']['stackTrace']
    if not st: continue
    names=[(x['method']['type']['name']+'.'+x['method']['name']).replace('/','.') for x in st['frames']]
    n+=1
    top=names[0]
    s=' '.join(names[:12])
    if 'org.postgresql' in s and ('Net.poll' in top or 'read0' in top or 'Socket' in top): a='PostgreSQL round trip (waiting)'
    elif 'write0' in top and 'org.postgresql' in s: a='PostgreSQL round trip (writing)'
    elif 'write0' in top: a='socket write (device)'
    elif 'sun.security.pkcs11' in s: a='HSM (PKCS#11)'
    elif 'sun.security.ec' in s or 'intpoly' in s: a='software EC (SunEC)'
    elif 'org.bouncycastle.crypto' in s or 'org.bouncycastle.math' in s: a='software crypto (Bouncy Castle)'
    elif 'org.bouncycastle.tls' in s: a='TLS protocol (Bouncy Castle)'
    elif 'org.hibernate' in s or 'org.postgresql' in s or 'agroal' in s or 'arjuna' in s or 'narayana' in s: a='Hibernate/JDBC/JTA CPU'
    elif 'Unsafe.park' in top or 'LockSupport' in s: a='waiting (lock/queue)'
    else: a='other CPU'
    act[a]+=1
    c='other'
    for k,lab in CALLERS:
        if any(k in x for x in names):
            c=lab; break
    caller[c]+=1
print('samples',n)
for k,v in act.most_common(): print('| %s | %d | %.0f %% |'%(k,v,100*v/n))
print()
for k,v in caller.most_common(): print('| %s | %d | %.0f %% |'%(k,v,100*v/n))
