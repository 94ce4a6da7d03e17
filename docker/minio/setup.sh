#!/bin/sh
# Idempotent MinIO setup: the document bucket (versioning + object lock) and an application user limited to it.
set -eu
mc alias set iop http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
# Object lock can only be switched on when a bucket is created; --with-lock also turns versioning on.
mc mb --ignore-existing --with-lock "iop/$IOP_S3_BUCKET"
mc version enable "iop/$IOP_S3_BUCKET"
# (The application checks the lock configuration itself and refuses a bucket created without it.)
cat > /tmp/iop-app.json <<POLICY
{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow",
     "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketVersions", "s3:GetBucketVersioning",
                "s3:GetBucketObjectLockConfiguration"],
     "Resource": ["arn:aws:s3:::$IOP_S3_BUCKET"]},
    {"Effect": "Allow",
     "Action": ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
                "s3:GetObjectRetention", "s3:PutObjectRetention", "s3:GetObjectLegalHold", "s3:PutObjectLegalHold"],
     "Resource": ["arn:aws:s3:::$IOP_S3_BUCKET/*"]}
  ]
}
POLICY
mc admin policy create iop iop-app /tmp/iop-app.json
mc admin user add iop "$IOP_S3_ACCESS_KEY" "$IOP_S3_SECRET_KEY"
# Attaching twice is an error in mc; the policy is what matters, so check instead of failing the re-run.
mc admin user info iop "$IOP_S3_ACCESS_KEY" | grep -q "iop-app" || mc admin policy attach iop iop-app --user "$IOP_S3_ACCESS_KEY"
echo "bucket $IOP_S3_BUCKET ready (versioning, object lock), user $IOP_S3_ACCESS_KEY limited to it"
