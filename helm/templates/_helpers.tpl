{{- define "m2m-trust.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "m2m-trust.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "m2m-trust.labels" -}}
app.kubernetes.io/name: {{ include "m2m-trust.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "m2m-trust.selectorLabels" -}}
app.kubernetes.io/name: {{ include "m2m-trust.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "m2m-trust.dbCluster" -}}
{{- printf "%s-db" (include "m2m-trust.fullname" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/* The seconds a pod may take to stop: the readiness delay, the HTTP drain, the device drain and a margin. */}}
{{- define "m2m-trust.terminationGrace" -}}
{{- add .Values.shutdown.delaySeconds .Values.shutdown.httpDrainSeconds .Values.shutdown.deviceDrainSeconds 5 -}}
{{- end -}}
