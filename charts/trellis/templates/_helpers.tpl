{{/* Names and labels shared by every template. */}}
{{- define "trellis.fullname" -}}
{{- if contains "trellis" .Release.Name -}}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{- else -}}{{ printf "%s-trellis" .Release.Name | trunc 63 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "trellis.labels" -}}
app.kubernetes.io/name: trellis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "trellis.selectorLabels" -}}
app.kubernetes.io/name: trellis
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "trellis.serviceAccountName" -}}
{{- default (include "trellis.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{- define "trellis.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}

{{/* The admission webhook's Service (what the webhook configurations and the certificate name). */}}
{{- define "trellis.webhookService" -}}
{{ include "trellis.fullname" . }}-webhook
{{- end -}}

{{- define "trellis.webhookSecret" -}}
{{ include "trellis.fullname" . }}-webhook-tls
{{- end -}}

{{/* The activator's own ServiceAccount (and the name of its ClusterRole, Role and bindings). */}}
{{- define "trellis.activatorServiceAccount" -}}
{{ include "trellis.fullname" . }}-activator
{{- end -}}

{{/* The dashboard's own ServiceAccount (and the name of its ClusterRole, Role, bindings, Deployment, Service). */}}
{{- define "trellis.dashboardServiceAccount" -}}
{{ include "trellis.fullname" . }}-dashboard
{{- end -}}
